//! Hotkeys from the standard Bittensor wallet layout: `{path}/{wallet}/hotkeys/{hotkey}`, the
//! JSON keyfile that `btcli wallet new_hotkey` writes.

use super::{Crypto, KeyError, KeyErrorKind, Keypair};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Python's default wallet directory, `~/.bittensor/wallets/`.
pub const DEFAULT_WALLET_PATH: &str = "~/.bittensor/wallets/";

/// Expands a leading `~` to `$HOME`, as Python's `os.path.expanduser`.
pub(crate) fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest.trim_start_matches(['/', '\\'])),
        _ => PathBuf::from(path),
    }
}

/// The hotkey file of wallet `name`, hotkey `hotkey`, under `path` (`~` expanded).
///
/// ```
/// let p = axon::keys::hotkey_path("/w", "miner", "default");
/// assert_eq!(p, std::path::PathBuf::from("/w/miner/hotkeys/default"));
/// ```
pub fn hotkey_path(path: &str, name: &str, hotkey: &str) -> PathBuf {
    expand_home(path).join(name).join("hotkeys").join(hotkey)
}

/// Where wallet `name` under `path` keeps its public coldkey (`coldkeypub.txt`).
///
/// ```
/// let p = axon::keys::coldkeypub_path("/w", "miner");
/// assert_eq!(p, std::path::PathBuf::from("/w/miner/coldkeypub.txt"));
/// ```
pub fn coldkeypub_path(path: &str, name: &str) -> PathBuf {
    expand_home(path).join(name).join("coldkeypub.txt")
}

/// The coldkey address of wallet `name` under `path`, from its public `coldkeypub.txt`
/// (the coldkey's secret is never needed by an axon).
///
/// ```
/// let err = axon::keys::coldkeypub("/nonexistent", "miner").unwrap_err();
/// assert!(err.to_string().starts_with("cannot read /nonexistent/miner/coldkeypub.txt"));
/// ```
pub fn coldkeypub(path: &str, name: &str) -> Result<String, KeyError> {
    let file = coldkeypub_path(path, name);
    let at = file.display();
    let json = keyfile_json(&file, &read(&file)?)?;
    let address = json.ss58_address.ok_or_else(|| {
        KeyError::new(
            KeyErrorKind::NotAKeyfile,
            format!("{at} has no `ss58Address`"),
        )
    })?;
    super::ss58_decode(&address)
        .map_err(|e| KeyError::new(KeyErrorKind::NotAKeyfile, format!("{at}: ss58Address: {e}")))?;
    Ok(address)
}

impl Keypair {
    /// Loads the hotkey of wallet `name`, hotkey `hotkey`, under `path` (Python's
    /// `--wallet.path`, `--wallet.name`, `--wallet.hotkey`).
    ///
    /// ```
    /// let err = axon::keys::Keypair::from_wallet("/nonexistent", "miner", "default").unwrap_err();
    /// assert!(err.to_string().starts_with("no hotkey file at /nonexistent/miner/hotkeys/default"));
    /// ```
    pub fn from_wallet(path: &str, name: &str, hotkey: &str) -> Result<Keypair, KeyError> {
        let file = hotkey_path(path, name, hotkey);
        if !file.exists() {
            return Err(KeyError::new(
                KeyErrorKind::NoFile,
                format!(
                    "no hotkey file at {}: create it with `btcli wallet new_hotkey --wallet.name \
                     {name} --wallet.hotkey {hotkey}`, or run with a development key",
                    file.display()
                ),
            ));
        }
        Keypair::from_keyfile(&file)
    }

    /// Loads a JSON keyfile (`secretSeed`, or else `privateKey`) of its `cryptoType`
    /// (sr25519 when absent, ed25519 when 0, as bittensor_wallet 4 and bittensor-core write
    /// them), checking that its `ss58Address` matches the key. A keyfile bittensor_wallet
    /// encrypted (`$NACL`) is decrypted with the password from its variable
    /// ([`password_variable`](super::password_variable)) or typed at a terminal; the legacy
    /// ansible-vault and fernet formats are refused with a message.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join("axon-doc-keyfile");
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let file = dir.join("hotkey");
    /// std::fs::write(&file, r#"{"secretSeed": "0x0707070707070707070707070707070707070707070707070707070707070707"}"#).unwrap();
    /// let k = axon::keys::Keypair::from_keyfile(&file).unwrap();
    /// assert_eq!(k.ss58(), axon::keys::Keypair::from_seed(&[7; 32]).unwrap().ss58());
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn from_keyfile(file: &Path) -> Result<Keypair, KeyError> {
        let bytes = read(file)?;
        let at = file.display();
        for (marker, kind) in [
            (&b"$ANSIBLE_VAULT"[..], "ansible-vault"),
            (b"gAAAAA", "fernet"),
        ] {
            if bytes.starts_with(marker) {
                return Err(KeyError::new(
                    KeyErrorKind::Legacy,
                    format!(
                        "{at} is encrypted in bittensor's legacy {kind} format, which axon does \
                         not read: re-encrypt it with a current btcli (NaCl) or regenerate the \
                         hotkey (`btcli wallet regen_hotkey`), or run with a development key"
                    ),
                ));
            }
        }
        let bytes = match bytes.starts_with(super::encrypted::NACL) {
            true => super::encrypted::decrypt(file, &bytes)?,
            false => Zeroizing::new(bytes),
        };
        let json = keyfile_json(file, &bytes)?;
        let crypto = match json.crypto_type {
            None => Crypto::Sr25519,
            Some(code) => Crypto::from_code(code).ok_or_else(|| {
                KeyError::new(
                    KeyErrorKind::NotAKeyfile,
                    format!(
                        "{at}: cryptoType {code} is not a crypto type axon serves with (0 is ed25519, 1 sr25519)"
                    ),
                )
            })?,
        };
        let keypair = match (&json.secret_seed, &json.private_key) {
            (Some(seed), _) => {
                Keypair::from_seed_with(&secret_hex(file, "secretSeed", seed)?, crypto)?
            }
            (None, Some(private)) => {
                let bytes = secret_hex(file, "privateKey", private)?;
                private_key(&bytes, crypto).ok_or_else(|| {
                    let what = match crypto {
                        Crypto::Sr25519 => "a 64-byte sr25519 secret key",
                        Crypto::Ed25519 => "a 32-byte ed25519 secret key",
                    };
                    KeyError::new(
                        KeyErrorKind::BadSecret,
                        format!("{at}: privateKey is not {what} (its cryptoType is {crypto})"),
                    )
                })?
            }
            (None, None) => {
                return Err(KeyError::new(
                    KeyErrorKind::NotAKeyfile,
                    format!(
                        "{at} holds no secret key (neither `secretSeed` nor `privateKey`): is it \
                         a public-only coldkeypub file?"
                    ),
                ))
            }
        };
        if let Some(address) = &json.ss58_address {
            if address != keypair.ss58() {
                return Err(KeyError::new(
                    KeyErrorKind::NotAKeyfile,
                    format!(
                        "{at}: its ss58Address {address} is not the address of its key, {}",
                        keypair.ss58()
                    ),
                ));
            }
        }
        Ok(keypair)
    }
}

/// What an axon reads of a JSON keyfile; the secrets are wiped when it is dropped. A field
/// that is not a string makes the file "not a JSON keyfile".
#[derive(serde::Deserialize)]
struct Keyfile {
    #[serde(rename = "secretSeed")]
    secret_seed: Option<Zeroizing<String>>,
    #[serde(rename = "privateKey")]
    private_key: Option<Zeroizing<String>>,
    #[serde(rename = "ss58Address")]
    ss58_address: Option<String>,
    /// bittensor's `cryptoType`: 0 ed25519, 1 sr25519; absent in keyfiles written before
    /// ed25519 hotkeys, which are sr25519.
    #[serde(rename = "cryptoType")]
    crypto_type: Option<i64>,
}

/// The keypair of a keyfile's `privateKey`: sr25519's 64-byte secret key (scalar and
/// nonce), or ed25519's 32-byte secret key.
fn private_key(bytes: &[u8], crypto: Crypto) -> Option<Keypair> {
    match crypto {
        Crypto::Sr25519 => {
            let secret = schnorrkel::SecretKey::from_bytes(bytes).ok()?;
            Some(Keypair::from_schnorrkel(secret.to_keypair()))
        }
        Crypto::Ed25519 => Keypair::from_seed_with(bytes, Crypto::Ed25519).ok(),
    }
}

/// The bytes of a keyfile's secret `field` (hex, `0x` optional), wiped when dropped; the
/// error is bittensor_wallet's for the same digits (the `hex` crate's), and, as there, every
/// leading `0x` is stripped.
fn secret_hex(file: &Path, field: &str, digits: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let digits = digits.trim_start_matches("0x");
    hex::decode(digits).map(Zeroizing::new).map_err(|e| {
        let message = format!("{}: {field}: {e}", file.display());
        KeyError::new(KeyErrorKind::BadSecret, message).caused_by(e)
    })
}

/// The bytes of `file`, or why not.
fn read(file: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(file).map_err(|e| {
        let message = format!("cannot read {}: {e}", file.display());
        KeyError::new(KeyErrorKind::Unreadable, message).caused_by(e)
    })
}

/// The JSON of the keyfile `file`, whose (decrypted) bytes are `bytes`.
fn keyfile_json(file: &Path, bytes: &[u8]) -> Result<Keyfile, KeyError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let message = format!("{} is not a JSON keyfile: {e}", file.display());
        KeyError::new(KeyErrorKind::NotAKeyfile, message).caused_by(e)
    })
}

//! Keyfiles encrypted by `bittensor_wallet` (what `btcli` writes when asked for a password):
//! `$NACL`, a 24-byte nonce, then an XSalsa20-Poly1305 secret box of the JSON keyfile, whose
//! key is Argon2i v1.3 of the password (libsodium's "sensitive" limits: 8 passes over 512 MiB,
//! one lane) with bittensor_wallet's fixed salt.
//!
//! The password comes from the environment as bittensor_wallet puts it there
//! (`Keyfile.save_password_to_env`): a variable named after the file ([`env_var_name`]) holding
//! the password XOR'd with that name, in base64. Without it, the terminal (`/dev/tty`) is
//! asked, echo off, even when stdin is redirected.
//!
//! Every secret here (the password, the derived key, the plaintext) is held in
//! [`Zeroizing`], wiped when dropped.

use super::{KeyError, KeyErrorKind};
use argon2::{Algorithm, Argon2, Params, Version};
use base64ct::{Base64, Encoding};
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use std::path::Path;
use zeroize::Zeroizing;

/// The prefix of a NaCl-encrypted keyfile.
pub(crate) const NACL: &[u8] = b"$NACL";

/// bittensor_wallet's salt for the key derivation.
const SALT: &[u8; 16] = b"\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1";

/// libsodium's `crypto_pwhash_argon2i_OPSLIMIT_SENSITIVE` and `MEMLIMIT_SENSITIVE` (KiB).
const PASSES: u32 = 8;
const MEMORY_KIB: u32 = 512 * 1024;

/// The variable bittensor_wallet reads a keyfile's password from: `BT_PW_` and the file's
/// path with separators and dots as `_`, upper case.
///
/// ```
/// let name = axon::keys::password_variable(std::path::Path::new("/home/m/.bittensor/wallets/w/hotkeys/h"));
/// assert_eq!(name, "BT_PW__HOME_M__BITTENSOR_WALLETS_W_HOTKEYS_H");
/// ```
pub fn env_var_name(file: &Path) -> String {
    let path = file
        .to_string_lossy()
        .replace([std::path::MAIN_SEPARATOR, '.'], "_");
    format!("BT_PW_{}", path.to_uppercase())
}

/// The password in `variable`, decoded as bittensor_wallet encodes it; `None` when unset.
/// The variable is taken as it is, as bittensor_wallet takes it: no space is trimmed.
fn from_environment(variable: &str) -> Result<Option<Zeroizing<String>>, KeyError> {
    let Some(encoded) = std::env::var_os(variable) else {
        return Ok(None);
    };
    let encoded = Zeroizing::new(encoded.into_encoded_bytes());
    let bad = |what: &str| {
        KeyError::new(
            KeyErrorKind::Locked,
            format!(
                "{variable} is not a password as bittensor_wallet stores it ({what}): set it \
                 with `Keyfile.save_password_to_env(password)` (base64 of the password XOR'd \
                 with the variable's name) or unset it to be prompted"
            ),
        )
    };
    let mut bytes = Zeroizing::new(
        Base64::decode_vec(std::str::from_utf8(&encoded).map_err(|_| bad("not UTF-8"))?)
            .map_err(|_| bad("Base64 decoding error: Invalid Base64"))?,
    );
    let key = variable.as_bytes();
    for (i, b) in bytes.iter_mut().enumerate() {
        *b ^= key[i % key.len()];
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| bad("the password is not UTF-8"))?;
    Ok(Some(Zeroizing::new(text.to_owned())))
}

/// The password of `file`: from its variable, or typed at the terminal.
fn password(file: &Path) -> Result<Zeroizing<String>, KeyError> {
    let variable = env_var_name(file);
    if let Some(password) = from_environment(&variable)? {
        return Ok(password);
    }
    prompt(file).map_err(|cause| {
        let message = format!(
            "{} is encrypted: give its password in {variable} (as bittensor_wallet's \
             `Keyfile.save_password_to_env` stores it), or start the miner where it can ask on \
             a terminal (it could not: {cause})",
            file.display()
        );
        KeyError::new(KeyErrorKind::Locked, message).caused_by(cause)
    })
}

/// Decrypts the NaCl keyfile `data` read from `file`.
pub(crate) fn decrypt(file: &Path, data: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let password = password(file)?;
    open(data, &password).ok_or_else(|| {
        KeyError::new(
            KeyErrorKind::WrongPassword,
            format!(
                "wrong password for the encrypted hotkey {} (or the file is damaged)",
                file.display()
            ),
        )
    })
}

/// The plaintext of a `$NACL` box sealed with `password`; `None` when it does not open.
pub(crate) fn open(data: &[u8], password: &str) -> Option<Zeroizing<Vec<u8>>> {
    let boxed = data.strip_prefix(NACL)?;
    if boxed.len() < 24 {
        return None;
    }
    let (nonce, ciphertext) = boxed.split_at(24);
    let key = derive_key(password)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    cipher
        .decrypt(Nonce::from_slice(nonce), ciphertext)
        .ok()
        .map(Zeroizing::new)
}

/// The secret box's key for `password`: Argon2i as bittensor_wallet derives it.
fn derive_key(password: &str) -> Option<Zeroizing<[u8; 32]>> {
    let params = Params::new(MEMORY_KIB, PASSES, 1, Some(32)).ok()?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), SALT, key.as_mut())
        .ok()?;
    Some(key)
}

/// Asks for the password on the process's terminal (`/dev/tty`, echo off), which works when
/// stdin is redirected as long as the process has a terminal.
fn prompt(file: &Path) -> std::io::Result<Zeroizing<String>> {
    rpassword::prompt_password(format!("Password for {}: ", file.display())).map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::ZeroizeOnDrop;

    /// Compiles only for a value whose type wipes it when dropped.
    fn wiped<T: ZeroizeOnDrop>(_: &T) {}

    #[test]
    fn the_password_the_key_and_the_plaintext_are_held_in_wiping_types() {
        let variable = "BT_PW__AXON_UNIT_TEST_WIPED";
        // "pw" XOR'd with the variable's name, in base64, as bittensor_wallet stores it.
        let xored: Vec<u8> = b"pw"
            .iter()
            .zip(variable.bytes())
            .map(|(p, k)| p ^ k)
            .collect();
        std::env::set_var(variable, Base64::encode_string(&xored));
        let password = from_environment(variable).unwrap().unwrap();
        std::env::remove_var(variable);
        assert_eq!(password.as_str(), "pw");
        wiped(&password);

        let key = derive_key(&password).unwrap();
        wiped(&key);

        // A box sealed here with that key opens to a plaintext that is wiped too.
        let nonce = [9u8; 24];
        let sealed = XSalsa20Poly1305::new(key.as_ref().into())
            .encrypt(Nonce::from_slice(&nonce), &b"{}"[..])
            .unwrap();
        let data = [NACL, &nonce, &sealed].concat();
        let plaintext = open(&data, &password).unwrap();
        assert_eq!(plaintext.as_slice(), b"{}");
        wiped(&plaintext);
    }
}

//! Keyfiles encrypted by `bittensor_wallet` (what `btcli` writes when asked for a password):
//! `$NACL`, a 24-byte nonce, then an XSalsa20-Poly1305 secret box of the JSON keyfile, whose
//! key is Argon2i v1.3 of the password (libsodium's "sensitive" limits: 8 passes over 512 MiB,
//! one lane) with bittensor_wallet's fixed salt.
//!
//! The password comes from the environment as bittensor_wallet puts it there
//! (`Keyfile.save_password_to_env`): a variable named after the file ([`env_var_name`]) holding
//! the password XOR'd with that name, in base64. Without it, a terminal is prompted.

use super::{KeyError, KeyErrorKind};
use argon2::{Algorithm, Argon2, Params, Version};
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use std::path::Path;

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
fn from_environment(variable: &str) -> Result<Option<String>, KeyError> {
    let Ok(encoded) = std::env::var(variable) else {
        return Ok(None);
    };
    let bad = || {
        KeyError::new(
            KeyErrorKind::Locked,
            format!(
            "{variable} is not a password as bittensor_wallet stores it (base64 of the password \
             XOR'd with the variable's name): set it with \
             `Keyfile.save_password_to_env(password)` or unset it to be prompted"
        ),
        )
    };
    let xored = crate::wire::base64_decode(encoded.trim()).ok_or_else(bad)?;
    let key = variable.as_bytes();
    let bytes: Vec<u8> = xored
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ key[i % key.len()])
        .collect();
    String::from_utf8(bytes).map(Some).map_err(|_| bad())
}

/// The password of `file`: from its variable, or typed at a terminal.
fn password(file: &Path) -> Result<String, KeyError> {
    let variable = env_var_name(file);
    if let Some(password) = from_environment(&variable)? {
        return Ok(password);
    }
    prompt(file).ok_or_else(|| {
        KeyError::new(
            KeyErrorKind::Locked,
            format!(
                "{} is encrypted: give its password in {variable} (as bittensor_wallet's \
             `Keyfile.save_password_to_env` stores it), or start the miner in a terminal to \
             type it",
                file.display()
            ),
        )
    })
}

/// Decrypts the NaCl keyfile `data` read from `file`.
pub(crate) fn decrypt(file: &Path, data: &[u8]) -> Result<Vec<u8>, KeyError> {
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
pub(crate) fn open(data: &[u8], password: &str) -> Option<Vec<u8>> {
    let boxed = data.strip_prefix(NACL)?;
    if boxed.len() < 24 {
        return None;
    }
    let (nonce, ciphertext) = boxed.split_at(24);
    let params = Params::new(MEMORY_KIB, PASSES, 1, Some(32)).ok()?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), SALT, &mut key)
        .ok()?;
    let cipher = XSalsa20Poly1305::new(&key.into());
    cipher.decrypt(Nonce::from_slice(nonce), ciphertext).ok()
}

/// Asks for the password when stdin and stderr are a terminal, without echoing it.
fn prompt(file: &Path) -> Option<String> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return None;
    }
    eprint!("Password for {}: ", file.display());
    let _ = std::io::stderr().flush();
    let echo = EchoOff::new();
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    drop(echo);
    eprintln!();
    read.ok()?;
    Some(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// The terminal's echo, off while it lives.
struct EchoOff {
    #[cfg(unix)]
    saved: Option<libc::termios>,
}

impl EchoOff {
    fn new() -> Self {
        #[cfg(unix)]
        {
            // SAFETY: tcgetattr/tcsetattr on stdin with a zeroed, then filled, termios.
            unsafe {
                let mut t: libc::termios = std::mem::zeroed();
                if libc::tcgetattr(libc::STDIN_FILENO, &mut t) != 0 {
                    return EchoOff { saved: None };
                }
                let saved = t;
                t.c_lflag &= !libc::ECHO;
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &t);
                EchoOff { saved: Some(saved) }
            }
        }
        #[cfg(not(unix))]
        EchoOff {}
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(saved) = self.saved {
            // SAFETY: restores the attributes read in `new`.
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &saved);
            }
        }
    }
}

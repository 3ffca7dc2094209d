//! Which crypto type each sender signs with, as the server says: [`Pins`] (a default and
//! per-hotkey pins, from configuration) and a [`CryptoRegistry`] (a miner's own lookup).
//!
//! A btauth/1 request declares its crypto type in `X-Bittensor-Crypto`, but the sender
//! chooses that header, and a bare SS58 address does not say which scheme its key is for
//! (sr25519 and ed25519 public keys are both 32 bytes). So the verifier never takes the
//! header's word: a request that declares another type than the server expects is refused
//! before its signature is looked at, and there is no fallback to another scheme.

use super::Crypto;
use crate::keys::ss58;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The crypto type each sender signs with: [`default`](Pins::default) for every sender
/// (sr25519), and pins for single hotkeys. A hotkey is pinned by its key, however its
/// address is spelled.
///
/// ```
/// use axon::auth::{Crypto, Pins};
///
/// let mut pins = Pins::default();
/// pins.pin("5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu", Crypto::Ed25519).unwrap();
/// pins.parse_pin("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY=sr25519").unwrap();
/// assert_eq!(pins.len(), 2);
/// let err = pins.parse_pin("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY").unwrap_err();
/// assert_eq!(err.to_string(), "`5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY` is not a pin: write SS58=sr25519 or SS58=ed25519");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pins {
    /// The crypto type of a sender with no pin (and no registry answer): sr25519 unless
    /// configured (`--auth.default_crypto`).
    pub default: Crypto,
    /// Each pinned key, with the address it was given as.
    keys: BTreeMap<[u8; 32], (String, Crypto)>,
}

/// A pin that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinError(String);

impl fmt::Display for PinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PinError {}

impl Pins {
    /// Pins the hotkey `ss58` (any SS58 network prefix: its key is what is pinned) to
    /// `crypto`; a later pin of the same key replaces it.
    pub fn pin(&mut self, ss58: &str, crypto: Crypto) -> Result<(), PinError> {
        let address = ss58.trim();
        let public = ss58::decode(address)
            .map_err(|e| PinError(format!("`{address}` is not an SS58 address: {e}")))?;
        self.keys.insert(public, (address.to_owned(), crypto));
        Ok(())
    }

    /// Pins from `SS58=CRYPTO` (`--auth.crypto`'s form; `sr25519`, `ed25519`, or btcli's
    /// `sr` and `ed`).
    pub fn parse_pin(&mut self, pin: &str) -> Result<(), PinError> {
        let (address, crypto) = pin.split_once('=').ok_or_else(|| {
            PinError(format!(
                "`{pin}` is not a pin: write SS58=sr25519 or SS58=ed25519"
            ))
        })?;
        let crypto = crypto
            .parse::<Crypto>()
            .map_err(|e| PinError(format!("`{pin}`: {e}")))?;
        self.pin(address, crypto)
    }

    /// Removes every pin (the default stays).
    pub fn clear(&mut self) {
        self.keys.clear();
    }

    /// The pin of the key `public`, if it has one.
    pub fn pinned(&self, public: &[u8; 32]) -> Option<Crypto> {
        self.keys.get(public).map(|(_, crypto)| *crypto)
    }

    /// How many keys are pinned.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is pinned.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The pins as `SS58=crypto`, each address as it was given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Crypto)> {
        self.keys.values().map(|(a, c)| (a.as_str(), *c))
    }
}

/// A miner's own account registry, asked for the crypto type of a sender with no pin:
/// `Some` to say, `None` to leave it to the default. Standard sr25519 and ed25519
/// accounts carry no scheme on chain, so for them pins are configuration; this hook is
/// for a registry the miner keeps (and for account kinds to come).
///
/// ```
/// use axon::auth::{AuthConfig, Crypto, CryptoRegistry};
///
/// let ed = "5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu";
/// let config = AuthConfig {
///     registry: Some(CryptoRegistry::new(move |ss58| (ss58 == ed).then_some(Crypto::Ed25519))),
///     ..AuthConfig::default()
/// };
/// let key = axon::keys::Keypair::from_uri_with("//Alice", Crypto::Ed25519).unwrap();
/// assert_eq!(config.expected_crypto(ed, &key.public()), Crypto::Ed25519);
/// ```
#[derive(Clone)]
pub struct CryptoRegistry(Arc<Lookup>);

/// A registry's lookup: a sender's address to its crypto type, if the registry knows it.
type Lookup = dyn Fn(&str) -> Option<Crypto> + Send + Sync;

impl CryptoRegistry {
    /// A registry asking `lookup` with the sender's address (SS58, Bittensor's prefix).
    pub fn new(lookup: impl Fn(&str) -> Option<Crypto> + Send + Sync + 'static) -> Self {
        CryptoRegistry(Arc::new(lookup))
    }

    /// Its answer for `ss58`.
    pub fn resolve(&self, ss58: &str) -> Option<Crypto> {
        (self.0)(ss58)
    }
}

impl fmt::Debug for CryptoRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CryptoRegistry(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{btauth, AuthConfig, AuthError, Authenticator};
    use crate::keys::Keypair;

    /// The order of the server's word: a pin, else the registry, else the default; and a
    /// request is checked against it, never against its own header.
    #[test]
    fn a_pin_wins_over_the_registry_which_wins_over_the_default() {
        let alice = Keypair::from_uri("//Alice").unwrap();
        let dave = Keypair::from_uri_with("//Dave", Crypto::Ed25519).unwrap();
        let eve = Keypair::from_uri_with("//Eve", Crypto::Ed25519).unwrap();
        let dave_ss58 = dave.ss58().to_owned();
        let registry = CryptoRegistry::new(move |ss58| {
            // The registry says both are ed25519; Eve is pinned sr25519 over it.
            (ss58 == dave_ss58 || ss58.starts_with('5')).then_some(Crypto::Ed25519)
        });
        let mut pins = Pins::default();
        pins.pin(eve.ss58(), Crypto::Sr25519).unwrap();
        let config = AuthConfig {
            pins,
            registry: Some(registry),
            ..AuthConfig::default()
        };
        assert_eq!(
            config.expected_crypto(dave.ss58(), &dave.public()),
            Crypto::Ed25519
        );
        assert_eq!(
            config.expected_crypto(eve.ss58(), &eve.public()),
            Crypto::Sr25519
        );
        let without = AuthConfig::default();
        assert_eq!(
            without.expected_crypto(dave.ss58(), &dave.public()),
            Crypto::Sr25519
        );

        let auth = Authenticator::with_config(alice.ss58(), config);
        let now = std::time::SystemTime::now();
        let call = |key: &Keypair| {
            let headers = btauth::sign(key, "POST", "/x", b"", Some(alice.ss58()), None);
            let get = |name: &str| {
                headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            };
            auth.btauth(get, "POST", "/x", b"", now)
        };
        assert_eq!(call(&dave).unwrap().crypto, Crypto::Ed25519);
        assert_eq!(
            call(&eve).unwrap_err(),
            AuthError::WrongCrypto(
                "X-Bittensor-Crypto is ed25519, but this server expects sr25519 from this hotkey"
                    .into()
            )
        );
    }

    #[test]
    fn a_key_is_pinned_however_its_address_is_spelled() {
        let alice = crate::keys::Keypair::from_uri("//Alice").unwrap();
        // The same key under the Polkadot prefix (0).
        let polkadot = "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5";
        assert_eq!(crate::keys::canonical_ss58(polkadot).unwrap(), alice.ss58());
        let mut pins = Pins::default();
        pins.pin(polkadot, Crypto::Ed25519).unwrap();
        assert_eq!(pins.pinned(&alice.public()), Some(Crypto::Ed25519));
        pins.parse_pin(&format!("{}=sr", alice.ss58())).unwrap();
        assert_eq!(pins.len(), 1);
        assert_eq!(pins.pinned(&alice.public()), Some(Crypto::Sr25519));
        assert!(pins.parse_pin("5Nope=ed25519").is_err());
        assert!(pins
            .parse_pin(&format!("{}=rsa", alice.ss58()))
            .unwrap_err()
            .to_string()
            .contains("is not a crypto type"));
    }
}

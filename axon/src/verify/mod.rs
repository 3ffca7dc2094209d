//! The default verify: the sr25519 signature of the dendrite, the nonce window and replay
//! protection of Python's `Axon.default_verify`, with the holes closed.
//!
//! A synapse without a custom [`#[axon::verify]`](macro@crate::verify) is checked with the
//! axon's [`Verifier`]. A custom verify *replaces* that check; to keep it and add your own
//! rules, take `&Verifier` as a state argument and call it first, one line. A started axon
//! provides it as state, built for its own hotkey, and uses the same instance for the
//! default check, so both share one replay store; give one with `Axon::state` to change its
//! [`VerifyConfig`]:
//!
//! ```
//! use axon::{verify::Verifier, HandlerError, StatusCode};
//!
//! #[axon::synapse]
//! pub struct Job { #[default] pub id: i64 }
//!
//! #[axon::forward]
//! fn job(s: Job) -> Job { s }
//!
//! #[axon::verify]
//! fn verify_job(synapse: &Job, default: &Verifier) -> Result<(), HandlerError> {
//!     default.verify(synapse)?; // the default signature, nonce and replay checks
//!     if synapse.id < 0 {
//!         return Err(HandlerError::new(StatusCode::UNAUTHORIZED, "negative id"));
//!     }
//!     Ok(())
//! }
//! # let _ = axon::Axon::from_registry().state(Verifier::new("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"));
//! ```

mod batch;
pub(crate) mod nonces;

use crate::keys::ss58_decode;
use crate::wire::signing::{self, Py};
use crate::{HandlerError, Synapse};
use batch::{Form, Verdict};
use http::StatusCode;
use nonces::Nonces;
use schnorrkel::context::SigningContext;
use schnorrkel::{PublicKey, Signature};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Python's `ALLOWED_DELTA`: the base width of the nonce window, 4 s.
pub const ALLOWED_DELTA: Duration = Duration::from_secs(4);

/// Python's `V_7_2_0`: dendrites from this version on send time-based nonces.
pub const V_7_2_0: i64 = 7_002_000;

/// The limits the default verify applies beyond Python's rules.
///
/// ```
/// let config = axon::verify::VerifyConfig::default();
/// assert_eq!(config.max_window_timeout.as_secs(), 60);
/// assert_eq!(config.max_future.as_secs(), 30);
/// assert_eq!(config.min_version, axon::verify::V_7_2_0);
/// assert!(config.batch);
/// assert_eq!(config.max_waiting, 8192);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct VerifyConfig {
    /// The client's `timeout` widens the window of a first nonce (4 s + timeout); it is
    /// clamped to this (60 s) so a client cannot make the window arbitrarily wide. (Not
    /// [`Axon::max_timeout`](crate::Axon::max_timeout), the longest a request may run.)
    pub max_window_timeout: Duration,
    /// Nonces more than this ahead of the axon's clock are refused (Python accepts any).
    pub max_future: Duration,
    /// Dendrites older than this version (or sending none) are refused: their nonces are
    /// not timestamps, so only an unbounded replay store could protect against them.
    pub min_version: i64,
    /// [`Verifier::verify_batched`] checks the signatures of requests arriving together in
    /// one batch (on by default). Off, it checks each alone, as [`Verifier::verify`] does.
    pub batch: bool,
    /// The most signatures waiting to be checked in batches (8,192); beyond it a request
    /// is refused at once (503).
    pub max_waiting: usize,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            max_window_timeout: Duration::from_secs(60),
            max_future: Duration::from_secs(30),
            min_version: V_7_2_0,
            batch: true,
            max_waiting: batch::MAX_WAITING,
        }
    }
}

/// The default verify of one axon, identified by its own hotkey (the receiver every
/// signature must name). One per axon: its replay store is shared by every synapse, as in
/// Python, so a request signed for one synapse cannot be replayed to another.
///
/// The checks, in Python's order, each refusing with 401 and Python's message:
///
/// 1. the dendrite hotkey is a valid SS58 address;
/// 2. a nonce is present (`Missing Nonce`);
/// 3. beyond Python: the dendrite version is at least [`VerifyConfig::min_version`], and the
///    nonce is at most [`VerifyConfig::max_future`] ahead of this clock;
/// 4. the nonce is newer than now − 4 s − timeout (the timeout clamped to
///    [`VerifyConfig::max_window_timeout`]), and this request (dendrite hotkey, uuid, nonce) was
///    not accepted before (`Nonce is a replay: ...`);
/// 5. a signature is present (`Missing Signature`), `0x` hex, and verifies (sr25519, context
///    `substrate`) over `{nonce}.{dendrite hotkey}.{axon hotkey}.{uuid}.{computed_body_hash}`,
///    plain or `<Bytes>`-wrapped;
/// 6. the request is recorded only then, so a forged one cannot pollute the store.
///
/// Check 4 does not depend on arrival order: a dendrite's concurrent calls are each inside
/// their window and each new, so all are served however they are reordered on the way (in
/// the network, or across this axon's threads and signature batches). Python's check 4
/// instead refuses any nonce not above the last one accepted from `hotkey:uuid`, and so
/// refuses concurrent calls that arrive out of order; on replays the two are equally
/// strict: a replay repeats a request already accepted, refused while it is remembered and
/// by the window once it is forgotten. Every nonce must be inside the window, not only a
/// dendrite's first (Python serves a held-back request with any nonce above the last).
/// `tests/concurrent.rs` sends both cases to the real Python axon.
///
/// The store forgets a request once its nonce has fallen out of the widest possible window
/// (4 s + [`VerifyConfig::max_window_timeout`]), so its memory is bounded by the request rate over
/// that window (16 bytes a request); forgetting admits nothing, since a forgotten nonce is
/// too old for any window.
pub struct Verifier {
    hotkey: String,
    config: VerifyConfig,
    nonces: Arc<Mutex<Nonces>>,
    /// Decoded public keys by SS58 address: decompressing a point costs as much as a tenth
    /// of a verification, and validators call again and again.
    keys: Mutex<HashMap<String, Known>>,
    context: SigningContext,
    batcher: Arc<batch::Batcher>,
}

/// A decoded hotkey, and the form of message it last signed.
#[derive(Clone, Copy)]
struct Known {
    public: PublicKey,
    form: Option<Form>,
}

/// The most decoded keys kept; the cache starts over when full.
const MAX_CACHED_KEYS: usize = 4096;

/// A refusal of the default verify: 401 with Python's message.
fn refuse(message: impl Into<String>) -> HandlerError {
    HandlerError::new(StatusCode::UNAUTHORIZED, message)
}

/// Decodes a `0x`-hex sr25519 signature, with bittensor_wallet's messages (the same `hex`
/// crate's errors, which it prints with `{:?}`).
fn parse_signature(text: &str) -> Result<Signature, String> {
    // bittensor_wallet strips every leading `0x`, not only the first.
    let digits = text
        .strip_prefix("0x")
        .ok_or("Invalid signature format. Expected hex string.")?
        .trim_start_matches("0x");
    let bytes = hex::decode(digits).map_err(|e| format!("Invalid hex string: {e:?}"))?;
    Signature::from_bytes(&bytes).map_err(|_| "Invalid SR25519 signature.".to_string())
}

impl Verifier {
    /// The default verify of the axon whose hotkey is `axon_hotkey` (SS58), with the
    /// default [`VerifyConfig`].
    ///
    /// ```
    /// let v = axon::verify::Verifier::new("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    /// assert_eq!(v.hotkey(), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    /// ```
    pub fn new(axon_hotkey: impl Into<String>) -> Self {
        Verifier::with_config(axon_hotkey, VerifyConfig::default())
    }

    /// The same, with explicit limits.
    ///
    /// ```
    /// use axon::verify::{Verifier, VerifyConfig};
    ///
    /// let mut config = VerifyConfig::default();
    /// config.max_window_timeout = std::time::Duration::from_secs(120);
    /// let v = Verifier::with_config("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", config);
    /// assert_eq!(v.config().max_window_timeout.as_secs(), 120);
    /// ```
    pub fn with_config(axon_hotkey: impl Into<String>, config: VerifyConfig) -> Self {
        let max_waiting = config.max_waiting;
        Verifier {
            hotkey: axon_hotkey.into(),
            config,
            nonces: Arc::default(),
            keys: Mutex::new(HashMap::new()),
            batcher: batch::Batcher::new(
                schnorrkel::signing_context(signing::CONTEXT),
                max_waiting,
            ),
            context: schnorrkel::signing_context(signing::CONTEXT),
        }
    }

    /// The replay store, for the signed-HTTP schemes to share (`auth`), and how long it
    /// must remember a request: the widest window a synapse may claim.
    pub(crate) fn store(&self) -> (Arc<Mutex<Nonces>>, Duration) {
        (self.nonces.clone(), self.retention())
    }

    /// How long the store must remember an accepted request: the widest window a synapse
    /// may claim.
    pub(crate) fn retention(&self) -> Duration {
        ALLOWED_DELTA + self.config.max_window_timeout
    }

    /// The axon's own hotkey, the receiver signatures must name.
    ///
    /// ```
    /// # let v = axon::verify::Verifier::new("5Grw");
    /// assert_eq!(v.hotkey(), "5Grw");
    /// ```
    pub fn hotkey(&self) -> &str {
        &self.hotkey
    }

    /// The limits in force.
    ///
    /// ```
    /// # let v = axon::verify::Verifier::new("5Grw");
    /// assert_eq!(v.config(), &axon::verify::VerifyConfig::default());
    /// ```
    pub fn config(&self) -> &VerifyConfig {
        &self.config
    }

    /// How many accepted requests the replay store remembers.
    ///
    /// ```
    /// # let v = axon::verify::Verifier::new("5Grw");
    /// assert_eq!(v.remembered(), 0);
    /// ```
    pub fn remembered(&self) -> usize {
        self.nonces.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Runs the default verify on a synapse read from a request's headers, now.
    ///
    /// ```
    /// let v = axon::verify::Verifier::new("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    /// let err = v.verify(&axon::BaseSynapse::default()).unwrap_err();
    /// assert_eq!(err.status().as_u16(), 401);
    /// assert_eq!(err.message(), "No SS58 formatted address or public key provided.");
    /// ```
    pub fn verify<S: Synapse>(&self, synapse: &S) -> Result<(), HandlerError> {
        self.verify_at(synapse, SystemTime::now())
    }

    /// [`verify`](Self::verify) with the clock given: for tests and replays of recorded
    /// traffic.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let v = axon::verify::Verifier::new("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    /// let mut s = axon::BaseSynapse::default();
    /// s.dendrite.hotkey = Some("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".into());
    /// s.dendrite.version = Some(10_005_000);
    /// s.dendrite.nonce = Some(1_000_000_000_000_000_000);
    /// let now = UNIX_EPOCH + Duration::from_secs(1_000_000_100);
    /// assert_eq!(
    ///     v.verify_at(&s, now).unwrap_err().message(),
    ///     "Nonce is too old: acceptable delta is 16.00 seconds but request was 100.00 seconds old"
    /// );
    /// ```
    pub fn verify_at<S: Synapse>(&self, synapse: &S, now: SystemTime) -> Result<(), HandlerError> {
        let (pending, claim) = self.prepare(synapse, now)?;
        let form = claim.check(&self.context);
        self.conclude(pending, &claim, form)
    }

    /// [`verify`](Self::verify), with the signature checked in a batch together with the
    /// signatures of other requests being verified at the same time: the same checks and
    /// answers, at about half the cryptographic cost per request when requests arrive
    /// together (see [`VerifyConfig::batch`]). The default verify of a running axon uses it.
    /// Needs a tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let v = axon::verify::Verifier::new("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    /// let err = v.verify_batched(&axon::BaseSynapse::default()).await.unwrap_err();
    /// assert_eq!(err.message(), "No SS58 formatted address or public key provided.");
    /// # }
    /// ```
    pub async fn verify_batched<S: Synapse>(&self, synapse: &S) -> Result<(), HandlerError> {
        self.verify_batched_until(synapse, None)
            .await
            .map_err(Unchecked::into_error)
    }

    /// [`verify_batched`](Self::verify_batched) for a request whose timeout ends at
    /// `deadline`: its signature is not checked once that has passed (408). Signatures wait
    /// in a queue per client address (`dendrite.ip`), served in turn, so one client's flood
    /// delays another's check by one batch at most; too many waiting is refused at once.
    pub(crate) async fn verify_batched_until<S: Synapse>(
        &self,
        synapse: &S,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<(), Unchecked> {
        if !self.config.batch {
            return self.verify(synapse).map_err(Unchecked::Refused);
        }
        let (pending, claim) = self.prepare(synapse, SystemTime::now())?;
        let client = synapse.common().dendrite.ip.as_deref().unwrap_or("");
        match self.batcher.check(claim, client, deadline).await {
            Some((claim, Verdict::Checked(form))) => Ok(self.conclude(pending, &claim, form)?),
            Some((_, Verdict::Expired)) => Err(Unchecked::Expired),
            Some((_, Verdict::Saturated)) => Err(Unchecked::Saturated),
            None => Err(Unchecked::Refused(HandlerError::internal(
                "the signature check was abandoned: the runtime is shutting down",
            ))),
        }
    }

    /// Checks 1 to 4 and the parsing of check 5: everything but the signature itself.
    fn prepare<'a, S: Synapse>(
        &self,
        synapse: &'a S,
        now: SystemTime,
    ) -> Result<(Pending<'a>, batch::Claim), HandlerError> {
        let common = synapse.common();
        let dendrite = common.dendrite;
        let hotkey = dendrite
            .hotkey
            .as_deref()
            .ok_or_else(|| refuse("No SS58 formatted address or public key provided."))?;
        let cached = self
            .keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(hotkey)
            .copied();
        // A hotkey seen signing plain, while bad signatures arrive: its signature is
        // checked plain only (a forged one costs one verification, not two).
        let plain_only =
            cached.is_some_and(|k| k.form == Some(Form::Plain)) && self.batcher.under_attack();
        // The replay store keys on the public key's bytes, not on the address's spelling.
        let raw = match cached {
            Some(known) => known.public.to_bytes(),
            None => ss58_decode(hotkey).map_err(refuse)?,
        };
        let nonce = dendrite.nonce.ok_or_else(|| refuse("Missing Nonce"))?;
        let version = dendrite.version.unwrap_or(0);
        if version < self.config.min_version {
            return Err(refuse(format!(
                "Dendrite version {} is older than {}, the oldest this axon serves: upgrade bittensor",
                Py(&dendrite.version),
                self.config.min_version
            )));
        }

        let now_ns = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        let max_future = self.config.max_future.as_nanos() as i128;
        if i128::from(nonce) > now_ns + max_future {
            return Err(refuse(format!(
                "Nonce is too far in the future: {:.2} seconds ahead of this axon's clock, at most {:.2} allowed",
                (i128::from(nonce) - now_ns) as f64 / 1e9,
                max_future as f64 / 1e9
            )));
        }
        let timeout = common.timeout.unwrap_or(0.0);
        let timeout = if timeout.is_nan() {
            0.0
        } else {
            timeout.clamp(0.0, self.config.max_window_timeout.as_secs_f64())
        };
        let pending_window = Window {
            nonce,
            now_ns,
            delta_ns: ALLOWED_DELTA.as_nanos() as f64 + timeout * 1e9,
        };
        let key = {
            let nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(message) = pending_window.stale(&nonces) {
                return Err(refuse(message));
            }
            let key = nonces.key(&raw, dendrite.uuid.as_deref(), nonce);
            if nonces.seen(key) {
                return Err(refuse(replayed(nonce)));
            }
            key
        };

        let signature = match dendrite.signature.as_deref() {
            None | Some("") => return Err(refuse("Missing Signature")),
            Some(s) => s,
        };
        let message = signing::request_message(
            nonce,
            hotkey,
            &self.hotkey,
            dendrite.uuid.as_deref(),
            common.computed_body_hash.as_deref(),
        );
        let parsed = parse_signature(signature).map_err(refuse)?;
        let public = match cached {
            Some(known) => known.public,
            None => {
                let public = PublicKey::from_bytes(&raw)
                    .map_err(|e| refuse(format!("Invalid SS58 address: {e}")))?;
                let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
                if keys.len() >= MAX_CACHED_KEYS {
                    keys.clear();
                }
                keys.insert(hotkey.to_owned(), Known { public, form: None });
                public
            }
        };
        let pending = Pending {
            key,
            window: pending_window,
            signature,
            hotkey,
            known_form: cached.and_then(|k| k.form),
        };
        let claim = batch::Claim {
            public,
            signature: parsed,
            message,
            plain_only,
        };
        Ok((pending, claim))
    }

    /// Check 5's verdict and check 6: a verified nonce is stored, if still the newest.
    fn conclude(
        &self,
        pending: Pending<'_>,
        claim: &batch::Claim,
        form: Option<Form>,
    ) -> Result<(), HandlerError> {
        let Some(form) = form else {
            return Err(refuse(format!(
                "Signature mismatch with {} and {}",
                claim.message, pending.signature
            )));
        };
        if pending.known_form != Some(form) {
            let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(known) = keys.get_mut(pending.hotkey) {
                known.form = Some(form);
            }
        }
        // Check again and record atomically: a concurrent copy may have been accepted.
        let mut nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(message) = pending.window.stale(&nonces) {
            return Err(refuse(message));
        }
        let now_ns = pending.window.now_ns;
        let max_delta = self.retention().as_nanos() as i128;
        let oldest_useful = (now_ns - max_delta).clamp(i64::MIN.into(), i64::MAX.into()) as i64;
        if !nonces.insert(pending.key, pending.window.nonce, oldest_useful) {
            return Err(refuse(replayed(pending.window.nonce)));
        }
        Ok(())
    }
}

/// Why [`Verifier::verify_batched_until`] did not accept a request.
#[derive(Debug)]
pub(crate) enum Unchecked {
    /// Refused by a check (401), or an internal failure.
    Refused(HandlerError),
    /// Its deadline passed while its signature waited to be checked.
    Expired,
    /// Too many signatures were waiting.
    Saturated,
}

impl From<HandlerError> for Unchecked {
    fn from(e: HandlerError) -> Self {
        Unchecked::Refused(e)
    }
}

impl Unchecked {
    /// What [`Verifier::verify_batched`] answers for it: the refusal, 408 or 503.
    pub(crate) fn into_error(self) -> HandlerError {
        match self {
            Unchecked::Refused(e) => e,
            Unchecked::Expired => HandlerError::new(
                StatusCode::REQUEST_TIMEOUT,
                "the request's timeout passed while its signature waited to be checked",
            ),
            Unchecked::Saturated => HandlerError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many signatures are waiting to be checked: retry later",
            ),
        }
    }
}

/// A request past checks 1 to 4, its signature not yet checked.
struct Pending<'a> {
    /// The replay store's key of this request.
    key: u64,
    window: Window,
    /// The signature as sent, for the refusal message.
    signature: &'a str,
    /// The dendrite's hotkey, and the form it was last seen signing in.
    hotkey: &'a str,
    known_form: Option<Form>,
}

/// The nonce window of one request (check 4).
struct Window {
    nonce: i64,
    now_ns: i128,
    /// 4 s plus the clamped timeout, in nanoseconds.
    delta_ns: f64,
}

impl Window {
    /// Why the nonce is refused as too old, if it is: outside this request's window, or so
    /// old that `nonces` may have forgotten it.
    fn stale(&self, nonces: &Nonces) -> Option<String> {
        let outside = (self.nonce as f64) <= self.now_ns as f64 - self.delta_ns;
        (outside || nonces.forgotten(self.nonce)).then(|| {
            format!(
                "Nonce is too old: acceptable delta is {:.2} seconds but request was {:.2} seconds old",
                self.delta_ns / 1e9,
                (self.now_ns - i128::from(self.nonce)) as f64 / 1e9
            )
        })
    }
}

/// The refusal of a request accepted before.
pub(crate) fn replayed(nonce: i64) -> String {
    format!(
        "Nonce is a replay: a request of this dendrite with nonce {nonce} was already processed"
    )
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("hotkey", &self.hotkey)
            .field("config", &self.config)
            .field("remembered", &self.remembered())
            .finish()
    }
}

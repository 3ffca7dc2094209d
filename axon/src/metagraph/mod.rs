//! [`Metagraph`]: a subnet's neurons read from the chain, synced in the background and
//! swapped in whole, so that blacklists and priorities read it without a lock; and the
//! subnet template's policies on it (feature `chain`).
//!
//! ```no_run
//! use axon::{Blacklist, Metagraph};
//!
//! #[axon::synapse]
//! pub struct Ask { #[hash] pub q: String, #[default] pub a: Option<String> }
//!
//! // The subnet template's miner: registered validators only, the most staked first.
//! #[axon::blacklist]
//! fn validators(synapse: &Ask, metagraph: &Metagraph) -> Blacklist {
//!     metagraph.validator(synapse.dendrite.hotkey.as_deref())
//! }
//!
//! #[axon::priority]
//! fn by_stake(synapse: &Ask, metagraph: &Metagraph) -> f64 {
//!     metagraph.stake_priority(synapse.dendrite.hotkey.as_deref())
//! }
//! # #[axon::forward] async fn ask(s: Ask) -> Ask { s }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let subtensor = std::sync::Arc::new(axon::chain::Subtensor::connect("ws://127.0.0.1:9944").await?);
//! let metagraph = Metagraph::sync(subtensor, 1, Default::default()).await?;
//! let mut axon = axon::Axon::from_registry().metagraph(metagraph);
//! # Ok(()) }
//! ```

mod read;

use crate::chain::{ChainError, Subtensor};
use crate::handler::Blacklist;
use crate::AxonInfo;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// One neuron of the subnet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neuron {
    /// Its uid on the subnet.
    pub uid: u16,
    /// The hotkey's SS58 address.
    pub hotkey: String,
    /// The owning coldkey's SS58 address.
    pub coldkey: String,
    /// The hotkey's stake on this subnet, in its alpha's smallest unit
    /// (`TotalHotkeyAlpha`; the template's `metagraph.S`).
    pub stake: u64,
    /// Whether it may set weights (a validator).
    pub validator_permit: bool,
    /// The block of its last weights.
    pub last_update: u64,
    /// Its published axon, if it served one.
    pub axon: Option<AxonInfo>,
    /// The TLS public key it published with `serve_axon_tls`, if any.
    pub certificate: Option<NeuronCertificate>,
}

/// A neuron's TLS public key as the chain holds it (`NeuronCertificates`): an algorithm
/// byte and at most 64 bytes of key. With the `tls` feature,
/// [`TlsKey::from_chain`](crate::tls::TlsKey::from_chain) reads the algorithms this project
/// publishes (1: ed25519, 2: compressed P-256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeuronCertificate {
    /// The algorithm byte.
    pub algorithm: u8,
    /// The key's bytes.
    pub public_key: Vec<u8>,
}

/// The subnet at one block.
#[derive(Debug)]
pub struct Snapshot {
    /// The subnet.
    pub netuid: u16,
    /// The block read.
    pub block: u64,
    /// Its hash, `0x` and hex.
    pub block_hash: String,
    /// The neurons, by uid.
    pub neurons: Vec<Neuron>,
    by_hotkey: HashMap<String, usize>,
    taken: Instant,
}

impl Snapshot {
    /// The neuron of `hotkey`, if registered.
    pub fn neuron(&self, hotkey: &str) -> Option<&Neuron> {
        self.by_hotkey.get(hotkey).map(|&i| &self.neurons[i])
    }

    /// How long ago it was read.
    pub fn age(&self) -> Duration {
        self.taken.elapsed()
    }
}

/// How [`Metagraph::sync`] keeps the snapshot fresh.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Time between syncs (Python miners resync every epoch or so). Default 60 s.
    pub interval: Duration,
    /// The policies refuse every request once the snapshot is older than this (the chain
    /// stopped answering): fail closed. Default 300 s.
    pub max_age: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            interval: Duration::from_secs(60),
            max_age: Duration::from_secs(300),
        }
    }
}

/// A subnet's metagraph, kept fresh in the background. Clones share it. A handler reads it
/// as `&Metagraph` once [`Axon::metagraph`](crate::Axon::metagraph) gives it to the axon.
#[derive(Clone)]
pub struct Metagraph {
    inner: Arc<Inner>,
}

struct Inner {
    netuid: u16,
    options: SyncOptions,
    current: ArcSwap<Snapshot>,
    syncs: watch::Sender<u64>,
    stale_refusals: AtomicU64,
    sync_failures: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Metagraph {
    /// Reads subnet `netuid` once, without syncing.
    pub async fn read(subtensor: &Subtensor, netuid: u16) -> Result<Snapshot, ChainError> {
        read::snapshot(subtensor, netuid).await
    }

    /// Reads subnet `netuid` now (an error if the chain does not answer), then again every
    /// `options.interval` in a task of its own, which ends when the last clone drops. A
    /// failed sync keeps the previous snapshot, logs a warning and counts a failure; the
    /// policies refuse once the snapshot is older than `options.max_age`.
    pub async fn sync(
        subtensor: Arc<Subtensor>,
        netuid: u16,
        options: SyncOptions,
    ) -> Result<Metagraph, ChainError> {
        let first = read::snapshot(&subtensor, netuid).await?;
        tracing::info!(
            netuid,
            block = first.block,
            neurons = first.neurons.len(),
            "metagraph synced"
        );
        let metagraph = Metagraph {
            inner: Arc::new(Inner {
                netuid,
                options,
                current: ArcSwap::from_pointee(first),
                syncs: watch::channel(1).0,
                stale_refusals: AtomicU64::new(0),
                sync_failures: AtomicU64::new(0),
                last_error: Mutex::new(None),
            }),
        };
        tokio::spawn(keep_fresh(Arc::downgrade(&metagraph.inner), subtensor));
        Ok(metagraph)
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.current.load_full()
    }

    /// The subnet.
    pub fn netuid(&self) -> u16 {
        self.inner.netuid
    }

    /// How old the current snapshot is.
    pub fn age(&self) -> Duration {
        self.inner.current.load().age()
    }

    /// Whether the snapshot is older than the bound: the policies refuse everything.
    pub fn is_stale(&self) -> bool {
        self.age() > self.inner.options.max_age
    }

    /// Waits until the next sync after this call has finished (succeeded or failed).
    pub async fn next_sync(&self) {
        let mut syncs = self.inner.syncs.subscribe();
        syncs.borrow_and_update();
        let _ = syncs.changed().await;
    }

    /// The last sync's error, if the last sync failed.
    pub fn last_error(&self) -> Option<String> {
        self.inner.last_error.lock().unwrap().clone()
    }

    fn stale(&self) -> Option<Blacklist> {
        let age = self.age();
        let max = self.inner.options.max_age;
        (age > max).then(|| {
            self.inner.stale_refusals.fetch_add(1, Ordering::Relaxed);
            Blacklist::Deny(format!(
                "Metagraph is stale: last synced {} s ago (bound {} s); refusing until the chain answers",
                age.as_secs(),
                max.as_secs()
            ))
        })
    }

    fn lookup<T>(
        &self,
        hotkey: Option<&str>,
        f: impl FnOnce(&Neuron) -> T,
    ) -> Result<T, Blacklist> {
        if let Some(stale) = self.stale() {
            return Err(stale);
        }
        let Some(hotkey) = hotkey else {
            return Err(Blacklist::Deny("Missing dendrite or hotkey".into()));
        };
        let snapshot = self.inner.current.load();
        snapshot
            .neuron(hotkey)
            .map(f)
            .ok_or_else(|| Blacklist::Deny("Unrecognized hotkey".into()))
    }

    /// The TLS key `hotkey` published with `serve_axon_tls`, if it did and its algorithm is
    /// one this project reads (feature `tls`): what
    /// [`Dendrite::tls`](crate::dendrite::Dendrite::tls) pins.
    #[cfg(feature = "tls")]
    pub fn tls_key(&self, hotkey: &str) -> Option<crate::tls::TlsKey> {
        let snapshot = self.snapshot();
        let certificate = snapshot.neuron(hotkey)?.certificate.as_ref()?;
        crate::tls::TlsKey::from_chain(certificate.algorithm, &certificate.public_key)
    }

    /// The template's blacklist without `force_validator_permit`: refuses hotkeys not
    /// registered on the subnet (`Unrecognized hotkey`).
    pub fn registered(&self, hotkey: Option<&str>) -> Blacklist {
        self.lookup(hotkey, |_| Blacklist::Allow)
            .unwrap_or_else(|deny| deny)
    }

    /// The template's blacklist with `force_validator_permit`: refuses unregistered hotkeys
    /// and neurons without a validator permit (`Non-validator hotkey`).
    pub fn validator(&self, hotkey: Option<&str>) -> Blacklist {
        self.lookup(hotkey, |n| match n.validator_permit {
            true => Blacklist::Allow,
            false => Blacklist::Deny("Non-validator hotkey".into()),
        })
        .unwrap_or_else(|deny| deny)
    }

    /// Refuses unregistered hotkeys and stakes below `min` (`Stake below minimum`).
    pub fn min_stake(&self, hotkey: Option<&str>, min: u64) -> Blacklist {
        self.lookup(hotkey, |n| match n.stake >= min {
            true => Blacklist::Allow,
            false => Blacklist::Deny(format!("Stake below minimum: {} < {min}", n.stake)),
        })
        .unwrap_or_else(|deny| deny)
    }

    /// The template's priority: the caller's stake (`float(metagraph.S[uid])`); 0 for an
    /// unknown caller. (A stale snapshot is refused by the blacklist policies first.)
    pub fn stake_priority(&self, hotkey: Option<&str>) -> f64 {
        let snapshot = self.inner.current.load();
        hotkey
            .and_then(|h| snapshot.neuron(h))
            .map_or(0.0, |n| n.stake as f64)
    }

    /// The metagraph's lines of the Prometheus exposition.
    #[doc(hidden)]
    pub fn render_metrics(&self, out: &mut String) {
        let snapshot = self.inner.current.load();
        let i = &self.inner;
        let rows: [(&str, &str, &str, f64); 6] = [
            (
                "axon_metagraph_age_seconds",
                "gauge",
                "Seconds since the metagraph was last read.",
                snapshot.age().as_secs_f64(),
            ),
            (
                "axon_metagraph_stale",
                "gauge",
                "1 while the metagraph is older than its bound and the policies refuse everything.",
                f64::from(u8::from(self.is_stale())),
            ),
            (
                "axon_metagraph_block",
                "gauge",
                "The block the metagraph was read at.",
                snapshot.block as f64,
            ),
            (
                "axon_metagraph_neurons",
                "gauge",
                "Neurons in the metagraph.",
                snapshot.neurons.len() as f64,
            ),
            (
                "axon_metagraph_stale_refusals_total",
                "counter",
                "Requests refused because the metagraph was stale.",
                i.stale_refusals.load(Ordering::Relaxed) as f64,
            ),
            (
                "axon_metagraph_sync_failures_total",
                "counter",
                "Metagraph syncs that failed.",
                i.sync_failures.load(Ordering::Relaxed) as f64,
            ),
        ];
        for (name, kind, help, value) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{{netuid=\"{}\"}} {value}",
                i.netuid
            );
        }
    }
}

/// The background sync: every interval while a clone lives.
async fn keep_fresh(inner: Weak<Inner>, subtensor: Arc<Subtensor>) {
    loop {
        let Some(interval) = inner.upgrade().map(|i| i.options.interval) else {
            return;
        };
        tokio::time::sleep(interval).await;
        let Some(inner) = inner.upgrade() else { return };
        match read::snapshot(&subtensor, inner.netuid).await {
            Ok(snapshot) => {
                tracing::debug!(
                    netuid = inner.netuid,
                    block = snapshot.block,
                    neurons = snapshot.neurons.len(),
                    "metagraph synced"
                );
                inner.current.store(Arc::new(snapshot));
                *inner.last_error.lock().unwrap() = None;
            }
            Err(e) => {
                inner.sync_failures.fetch_add(1, Ordering::Relaxed);
                let age = inner.current.load().age();
                tracing::warn!(
                    netuid = inner.netuid,
                    age_s = age.as_secs(),
                    "metagraph sync failed, keeping the last snapshot: {e}"
                );
                *inner.last_error.lock().unwrap() = Some(e.to_string());
            }
        }
        inner.syncs.send_modify(|n| *n += 1);
    }
}

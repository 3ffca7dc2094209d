//! Why an axon cannot start: [`Problem`], each with its cause, and [`StartupError`], every
//! problem found at once.

use super::external_ip::DiscoveryError;
use crate::keys::KeyError;
use crate::net::ProxyError;
use crate::registry::HandlerProblem;
use crate::replay::StoreError;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// Why an axon cannot start. [`StartupError`] lists all of them at once; each says what to
/// do, and [`source`](Error::source) gives its cause.
///
/// ```
/// use axon::{Axon, Problem};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let err = Axon::new().ip("127.0.0.1").port(0).start().await.unwrap_err();
/// assert!(matches!(err.problems(), [Problem::NoHotkey]));
/// # });
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Problem {
    /// The handler table cannot be built.
    Handlers(HandlerProblem),
    /// `Axon::start` without a hotkey.
    NoHotkey,
    /// The wallet's hotkey could not be loaded.
    Hotkey {
        /// Why, naming the file.
        source: KeyError,
    },
    /// The wallet has a `coldkeypub.txt` that could not be read.
    Coldkey {
        /// Why, naming the file.
        source: KeyError,
    },
    /// A [`Verifier`](crate::verify::Verifier) given as state checks signatures addressed
    /// to another hotkey than the axon's.
    VerifierHotkey {
        /// The receiver the verifier checks for.
        verifier: String,
        /// The axon's hotkey.
        hotkey: String,
    },
    /// `--axon.ip` or `--axon.external_ip` is not an IP address.
    BadIp {
        /// The value given.
        ip: String,
    },
    /// A trusted proxy that is not an address or network.
    BadProxy {
        /// The entry.
        source: ProxyError,
    },
    /// The external IP was neither given nor discovered: no service gave one, or two
    /// disagreed.
    ExternalIp {
        /// What each discovery service answered.
        source: DiscoveryError,
    },
    /// A listening socket could not be opened.
    Bind {
        /// The address.
        address: String,
        /// The operating system's error.
        source: Arc<std::io::Error>,
    },
    /// The threads that run handler code (one per worker) could not be started.
    HandlerThreads {
        /// How many were asked for.
        threads: usize,
        /// The operating system's error.
        source: Arc<std::io::Error>,
    },
    /// Replay store settings that cannot be served as given: a client certificate without
    /// its key, or a store this build cannot make.
    ReplayStoreSettings {
        /// What is wrong and what to give instead.
        reason: &'static str,
    },
    /// The shared replay store cannot be made from its settings.
    ReplayStore {
        /// Why.
        source: StoreError,
    },
    /// The TLS certificate or key cannot be used.
    #[cfg(feature = "tls")]
    Tls {
        /// Why, naming the file.
        source: Arc<crate::tls::TlsError>,
    },
    /// TLS settings that cannot be served as given: one of `--axon.tls_cert` and
    /// `--axon.tls_key` without the other, or TLS asked of a build without the `tls`
    /// feature.
    TlsSettings {
        /// What is wrong and what to give instead.
        reason: &'static str,
    },
    /// `Axon::start` on an axon already serving.
    AlreadyStarted {
        /// Where it listens.
        address: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Handlers(problem) => problem.fmt(f),
            Problem::NoHotkey => f.write_str(
                "no hotkey to serve with: give one with `.wallet(&config.wallet)`, or \
                 `.hotkey(Keypair::from_uri(\"//Alice\")?)` for a local development key",
            ),
            Problem::Hotkey { source } => write!(f, "the hotkey could not be loaded: {source}"),
            Problem::Coldkey { source } => write!(
                f,
                "the coldkey could not be read: {source}; mend or remove the file (the axon \
                 needs only its address, which `info()` reports)"
            ),
            Problem::VerifierHotkey { verifier, hotkey } => write!(
                f,
                "the `Verifier` given as state checks signatures addressed to {verifier}, but \
                 the axon serves hotkey {hotkey}: build it with the axon's hotkey, or leave it \
                 out and the axon provides one"
            ),
            Problem::BadIp { ip } => write!(
                f,
                "--axon.ip `{ip}` is not an IP address: write `[::]` (IPv6 and IPv4), \
                 `0.0.0.0` (IPv4) or `127.0.0.1` (this machine only)"
            ),
            Problem::BadProxy { source } => write!(f, "trusted proxies: {source}"),
            Problem::ExternalIp { source } => write!(
                f,
                "the external IP could not be discovered ({source}): give it with \
                 `--axon.external_ip` or `BT_AXON_EXTERNAL_IP`"
            ),
            Problem::Bind { address, source } => {
                write!(f, "cannot listen on {address}: {source}")
            }
            Problem::HandlerThreads { threads, source } => write!(
                f,
                "cannot start {threads} threads for handler code (one per worker): {source}; \
                 lower `--axon.max_workers`"
            ),
            Problem::ReplayStore { source } => write!(f, "--axon.replay_store: {source}"),
            Problem::ReplayStoreSettings { reason } => write!(f, "{reason}"),
            #[cfg(feature = "tls")]
            Problem::Tls { source } => write!(f, "TLS: {source}"),
            Problem::TlsSettings { reason } => write!(f, "TLS: {reason}"),
            Problem::AlreadyStarted { address } => {
                write!(f, "the axon is already serving on {address}: stop it first")
            }
        }
    }
}

impl Error for Problem {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Problem::Handlers(problem) => Some(problem),
            Problem::Hotkey { source } | Problem::Coldkey { source } => Some(source),
            Problem::Bind { source, .. } | Problem::HandlerThreads { source, .. } => {
                Some(&**source)
            }
            Problem::ReplayStore { source } => Some(source),
            #[cfg(feature = "tls")]
            Problem::Tls { source } => Some(&**source),
            Problem::BadProxy { source } => Some(source),
            Problem::ExternalIp { source } => Some(source),
            _ => None,
        }
    }
}

impl From<HandlerProblem> for Problem {
    fn from(problem: HandlerProblem) -> Self {
        Problem::Handlers(problem)
    }
}

/// The axon cannot start: every [`Problem`] found, reported together.
///
/// ```
/// use axon::{Axon, BaseSynapse};
///
/// let err = Axon::new().state(1u8).state(2u8).handlers().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "the axon cannot start (1 problem):\n  - state `u8` was provided twice: give one value \
///      per type (wrap them in distinct types to keep both)"
/// );
/// ```
#[derive(Clone)]
pub struct StartupError {
    problems: Vec<Problem>,
}

impl StartupError {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        StartupError { problems }
    }

    /// Every problem, in a stable order.
    ///
    /// ```
    /// let err = axon::Axon::new().state(1u8).state(2u8).handlers().unwrap_err();
    /// assert_eq!(err.problems().len(), 1);
    /// ```
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The problems, owned.
    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "the axon cannot start ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

/// The same text as `Display`, so `axon.start().await?` in `main` prints the problems, not
/// a struct dump.
impl fmt::Debug for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The first problem is the source; [`problems`](StartupError::problems) has them all.
impl Error for StartupError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.problems.first().map(|p| p as &(dyn Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_says_what_to_do_and_keeps_its_cause() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let nothing = super::super::external_ip::Discovery::default().services(vec![]);
        let source = runtime.block_on(nothing.discover()).unwrap_err();
        let external = Problem::ExternalIp { source };
        assert!(
            external
                .to_string()
                .contains("give it with `--axon.external_ip`"),
            "{external}"
        );
        assert_eq!(
            external.source().unwrap().to_string(),
            "no discovery service configured"
        );
        let err = StartupError::new(vec![external, Problem::NoHotkey]);
        assert_eq!(format!("{err:?}"), err.to_string());
        assert!(
            err.to_string().contains("\n  - no hotkey to serve with"),
            "{err}"
        );
        let refused = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let bind = Problem::Bind {
            address: "127.0.0.1:8091".into(),
            source: Arc::new(refused),
        };
        let cause = bind.source().unwrap().downcast_ref::<std::io::Error>();
        assert_eq!(cause.unwrap().kind(), std::io::ErrorKind::AddrInUse);
        let err = StartupError::new(vec![bind]);
        assert!(err
            .source()
            .unwrap()
            .to_string()
            .starts_with("cannot listen on 127.0.0.1:8091: "));
    }
}

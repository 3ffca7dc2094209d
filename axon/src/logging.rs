//! Logging for miners in one call: [`init`] reads the `--logging.*` settings (bittensor
//! 10.5.0's flags and `BT_LOGGING_*` variables, in [`LoggingConfig`]) beside `RUST_LOG`, and
//! installs a `tracing` subscriber writing to stderr and, with `--logging.record_log`, to
//! `bittensor.log` under `--logging.logging_dir`.
//!
//! What an axon logs, by level:
//!
//! | level | lines |
//! |---|---|
//! | info (the default) | the startup banner, a stop, warnings and errors below |
//! | warn | one line per refused request (status and message) |
//! | error | one line per handler failure (with its cause) |
//! | debug (`--logging.debug`) | one line per request in (`axon <--`) and out (`axon -->`) |
//! | trace (`--logging.trace`) | everything |
//!
//! Each line of a request carries its span: `request{synapse=.. peer=.. hotkey=.. nonce=..}`.
//!
//! ```no_run
//! # #[tokio::main] async fn main() {
//! let (config, _rest) = axon::config::Config::from_process().unwrap();
//! axon::logging::init(&config.logging).unwrap();
//! # }
//! ```

use crate::config::LoggingConfig;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The file under `--logging.logging_dir`, named as Python names it.
pub const LOG_FILE: &str = "bittensor.log";

/// Why logging could not be set up, with the underlying error as its
/// [`source`](std::error::Error::source).
#[derive(Debug)]
pub enum LoggingError {
    /// The log file could not be opened.
    File {
        /// The file.
        path: std::path::PathBuf,
        /// The file system's error.
        source: std::io::Error,
    },
    /// A `tracing` subscriber is already installed.
    AlreadySet(tracing_subscriber::util::TryInitError),
}

impl fmt::Display for LoggingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoggingError::File { path, source } => write!(
                f,
                "cannot write the log file {}: {source} (set --logging.logging_dir)",
                path.display()
            ),
            LoggingError::AlreadySet(e) => write!(f, "logging is already set up: {e}"),
        }
    }
}

impl std::error::Error for LoggingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoggingError::File { source, .. } => Some(source),
            LoggingError::AlreadySet(e) => Some(e),
        }
    }
}

/// The level `config` asks for: `--logging.trace`, `--logging.debug`, `--logging.info` (the
/// most verbose given wins); without any, `rust_log` when it names a level (`RUST_LOG=debug`),
/// else info.
///
/// ```
/// use axon::config::LoggingConfig;
/// use axon::logging::level;
/// use tracing::level_filters::LevelFilter;
///
/// let mut config = LoggingConfig::default();
/// assert_eq!(level(&config, None), LevelFilter::INFO);
/// assert_eq!(level(&config, Some("warn")), LevelFilter::WARN);
/// config.debug = true;
/// assert_eq!(level(&config, Some("warn")), LevelFilter::DEBUG);
/// ```
pub fn level(config: &LoggingConfig, rust_log: Option<&str>) -> LevelFilter {
    if config.trace {
        LevelFilter::TRACE
    } else if config.debug {
        LevelFilter::DEBUG
    } else if config.info {
        LevelFilter::INFO
    } else {
        rust_log
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(LevelFilter::INFO)
    }
}

/// The log file `config` asks for, `~` expanded as for wallets: `None` without
/// `--logging.record_log`.
///
/// ```
/// let mut config = axon::config::LoggingConfig::default();
/// assert_eq!(axon::logging::file(&config), None);
/// config.record_log = true;
/// config.logging_dir = "/var/log/miner".into();
/// assert_eq!(axon::logging::file(&config), Some("/var/log/miner/bittensor.log".into()));
/// ```
pub fn file(config: &LoggingConfig) -> Option<PathBuf> {
    if !config.record_log || config.logging_dir.is_empty() {
        return None;
    }
    Some(crate::keys::expand_home(&config.logging_dir).join(LOG_FILE))
}

/// Installs the process's `tracing` subscriber as `config` and `RUST_LOG` ask: stderr (in
/// colour on a terminal) and, with `--logging.record_log`, `bittensor.log` appended to
/// (created with its directory; rotate it with `logrotate`'s `copytruncate`). Fails when the
/// file cannot be opened or a subscriber is already installed.
pub fn init(config: &LoggingConfig) -> Result<(), LoggingError> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let level = level(config, rust_log.as_deref());
    let file = match file(config) {
        None => None,
        Some(path) => Some(open(&path).map_err(|source| LoggingError::File { path, source })?),
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let file = file.map(|f| {
        tracing_subscriber::fmt::layer()
            .with_writer(Arc::new(f))
            .with_ansi(false)
    });
    tracing_subscriber::registry()
        .with(level)
        .with(stderr)
        .with(file)
        .try_init()
        .map_err(LoggingError::AlreadySet)
}

fn open(path: &std::path::Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

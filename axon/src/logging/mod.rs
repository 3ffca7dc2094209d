//! Logging for miners in one call: [`init`] reads the `--logging.*` settings (bittensor
//! 10.5.0's flags and `BT_LOGGING_*` variables, in [`LoggingConfig`]) beside `RUST_LOG`, and
//! installs a `tracing` subscriber writing to stderr and, with `--logging.record_log`, to
//! `bittensor.log` under `--logging.logging_dir`, rotated as bittensor rotates it.
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

mod rotation;

pub use rotation::{RotatingFile, BACKUPS, MAX_BYTES};

use crate::config::LoggingConfig;
use std::fmt;
use std::io::IsTerminal;
use std::path::PathBuf;
use tracing_subscriber::filter::{EnvFilter, LevelFilter};
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
    /// `RUST_LOG` holds a directive that does not parse.
    Filter {
        /// The variable's value.
        directives: String,
        /// What did not parse.
        source: tracing_subscriber::filter::ParseError,
    },
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
            LoggingError::Filter { directives, source } => write!(
                f,
                "RUST_LOG={directives:?} does not parse: {source} (write directives such as \
                 `info`, `axon=debug,hyper=warn`)"
            ),
        }
    }
}

impl std::error::Error for LoggingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoggingError::File { source, .. } => Some(source),
            LoggingError::AlreadySet(e) => Some(e),
            LoggingError::Filter { source, .. } => Some(source),
        }
    }
}

/// The level the `--logging.*` flags ask for: `--logging.trace`, `--logging.debug`,
/// `--logging.info` (the most verbose given wins); `None` without any.
///
/// ```
/// use axon::config::LoggingConfig;
/// use tracing::level_filters::LevelFilter;
///
/// let mut config = LoggingConfig::default();
/// assert_eq!(axon::logging::level(&config), None);
/// config.debug = true;
/// assert_eq!(axon::logging::level(&config), Some(LevelFilter::DEBUG));
/// ```
pub fn level(config: &LoggingConfig) -> Option<LevelFilter> {
    if config.trace {
        Some(LevelFilter::TRACE)
    } else if config.debug {
        Some(LevelFilter::DEBUG)
    } else if config.info {
        Some(LevelFilter::INFO)
    } else {
        None
    }
}

/// What is logged: `rust_log` (the `RUST_LOG` variable) as `tracing-subscriber`'s
/// directives (`info,hyper=warn`, `axon=debug`, `warn`, `[request{hotkey=5F..}]=debug`),
/// read as every `tracing` program reads them: a target they do not name is off, so
/// `axon=debug` shows the axon's lines only. Unset or empty, info. A `--logging.*` level
/// flag is the level of every target `rust_log` does not name (it wins over a bare level
/// there). A directive that does not parse is an error, not a silent default.
///
/// ```
/// use axon::config::LoggingConfig;
///
/// let mut config = LoggingConfig::default();
/// assert!(axon::logging::filter(&config, Some("axon=debug,hyper=warn")).is_ok());
/// assert!(axon::logging::filter(&config, Some("axon=loud")).is_err());
/// ```
pub fn filter(config: &LoggingConfig, rust_log: Option<&str>) -> Result<EnvFilter, LoggingError> {
    let default = level(config).unwrap_or(LevelFilter::INFO);
    let directives = rust_log.unwrap_or_default();
    let parsed = EnvFilter::builder()
        .with_default_directive(default.into())
        .parse(directives)
        .map_err(|source| LoggingError::Filter {
            directives: directives.to_owned(),
            source,
        })?;
    Ok(match level(config) {
        Some(flag) => parsed.add_directive(flag.into()),
        None => parsed,
    })
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
/// (created with its directory), rotated as bittensor rotates it ([`RotatingFile`]: at
/// 25 MiB, keeping 10 files). Fails when `RUST_LOG` does not parse, the file cannot be
/// opened, or a subscriber is already installed.
pub fn init(config: &LoggingConfig) -> Result<(), LoggingError> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = filter(config, rust_log.as_deref())?;
    let file = match file(config) {
        None => None,
        Some(path) => Some(
            RotatingFile::bittensor(&path).map_err(|source| LoggingError::File { path, source })?,
        ),
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let file = file.map(|f| {
        tracing_subscriber::fmt::layer()
            .with_writer(f)
            .with_ansi(false)
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file)
        .try_init()
        .map_err(LoggingError::AlreadySet)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    /// Whether an event at `level` from `target` passes `filter`.
    fn passes(filter: EnvFilter, target: &str, level: Level) -> Vec<bool> {
        let subscriber = tracing_subscriber::registry().with(filter);
        tracing::subscriber::with_default(subscriber, || {
            // One callsite per level and target: `enabled!` needs literal targets.
            match (target, level) {
                ("axon", Level::DEBUG) => {
                    vec![tracing::enabled!(target: "axon::pipeline", Level::DEBUG)]
                }
                ("hyper", Level::INFO) => {
                    vec![tracing::enabled!(target: "hyper::proto", Level::INFO)]
                }
                ("hyper", Level::WARN) => {
                    vec![tracing::enabled!(target: "hyper::proto", Level::WARN)]
                }
                ("other", Level::INFO) => vec![tracing::enabled!(target: "other", Level::INFO)],
                ("other", Level::DEBUG) => vec![tracing::enabled!(target: "other", Level::DEBUG)],
                ("other", Level::WARN) => vec![tracing::enabled!(target: "other", Level::WARN)],
                _ => unreachable!(),
            }
        })
    }

    #[test]
    fn rust_log_takes_directives_and_the_flags_set_the_rest() {
        let none = LoggingConfig::default();
        let debug = LoggingConfig {
            debug: true,
            ..LoggingConfig::default()
        };
        let f = |config: &LoggingConfig, rust_log: Option<&str>| filter(config, rust_log).unwrap();
        let cases: &[(&LoggingConfig, Option<&str>, &str, Level, bool)] = &[
            (&none, None, "other", Level::INFO, true),
            (&none, None, "other", Level::DEBUG, false),
            (&none, Some("warn"), "other", Level::INFO, false),
            (
                &none,
                Some("axon=debug,hyper=warn"),
                "axon",
                Level::DEBUG,
                true,
            ),
            (
                &none,
                Some("axon=debug,hyper=warn"),
                "hyper",
                Level::INFO,
                false,
            ),
            (
                &none,
                Some("axon=debug,hyper=warn"),
                "hyper",
                Level::WARN,
                true,
            ),
            // As in any `tracing` program: a target RUST_LOG does not name is off.
            (
                &none,
                Some("axon=debug,hyper=warn"),
                "other",
                Level::WARN,
                false,
            ),
            (&none, Some("info,hyper=warn"), "other", Level::INFO, true),
            (&none, Some(""), "other", Level::INFO, true),
            (&debug, Some("warn"), "other", Level::DEBUG, true),
            (&debug, Some("hyper=warn"), "hyper", Level::INFO, false),
            (&debug, Some("hyper=warn"), "other", Level::DEBUG, true),
        ];
        for &(config, rust_log, target, level, expected) in cases {
            assert_eq!(
                passes(f(config, rust_log), target, level),
                vec![expected],
                "RUST_LOG={rust_log:?} debug={} {target} {level}",
                config.debug
            );
        }
        let bad = filter(&none, Some("axon=loud")).unwrap_err();
        assert!(
            bad.to_string()
                .starts_with("RUST_LOG=\"axon=loud\" does not parse: "),
            "{bad}"
        );
        assert!(std::error::Error::source(&bad).is_some());
    }
}

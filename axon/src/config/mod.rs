//! Configuration as Python's: `--axon.*`, `--wallet.*`, `--logging.*` and `--subtensor.*`
//! flags over `BT_*` environment variables over the defaults. [`Config::help`] lists them all.
//!
//! Every setting is one row of a table (`settings.rs`) that drives parsing, the defaults
//! `--help` shows and the checks of its tests.

mod settings;
mod subtensor;

pub use subtensor::SubtensorConfig;

use crate::keys::DEFAULT_WALLET_PATH;
use settings::{Setting, Value, SETTINGS};
use std::fmt;

/// The axon's network settings (Python's `config.axon`).
///
/// ```
/// let a = axon::config::AxonConfig::default();
/// assert_eq!((a.port, a.ip.as_str(), a.max_workers), (8091, "[::]", 10));
/// assert_eq!((a.external_ip, a.external_port), (None, None));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AxonConfig {
    /// `--axon.port` / `BT_AXON_PORT`: the local port (8091).
    pub port: u16,
    /// `--axon.ip` / `BT_AXON_IP`: the local address (`[::]`: IPv6 and IPv4).
    pub ip: String,
    /// `--axon.external_ip` / `BT_AXON_EXTERNAL_IP`: the address announced to the network.
    pub external_ip: Option<String>,
    /// `--axon.external_port` / `BT_AXON_EXTERNAL_PORT`: the port announced to the network.
    pub external_port: Option<u16>,
    /// `--axon.max_workers` / `BT_AXON_MAX_WORKERS`: forwards running at once (10).
    pub max_workers: usize,
    /// `--priority.maxsize` / `BT_PRIORITY_MAXSIZE`: requests waiting for a worker before
    /// new ones are refused with 503 (1024; Python's setting, whose default of 10 would
    /// refuse most of a validator's burst).
    pub priority_maxsize: usize,
    /// `--axon.replay_store` / `BT_AXON_REPLAY_STORE`: a replay store shared with the other
    /// processes serving this hotkey, `redis://[user][:password@]host[:port][/db]` or
    /// `rediss://..` for TLS (none: this process's own only). Not a Python setting.
    pub replay_store: Option<String>,
    /// `--axon.replay_store_fallback` / `BT_AXON_REPLAY_STORE_FALLBACK`: when the shared
    /// store does not answer, `refuse` (503, the default) or `local` (serve on this
    /// process's own store alone). Not a Python setting.
    pub replay_store_local_fallback: bool,
    /// `--axon.replay_store_cluster` / `BT_AXON_REPLAY_STORE_CLUSTER`: the replay store's
    /// URL names one node of a Redis Cluster (off). Not a Python setting.
    pub replay_store_cluster: bool,
    /// `--axon.replay_store_sentinel` (repeatable) / `BT_AXON_REPLAY_STORE_SENTINELS`
    /// (comma-separated): the Redis Sentinels that name the replay store's master, each
    /// `host[:port]` or `redis://[user:password@]host[:port]`; the replay store's URL then
    /// names the master by its name (none). Not a Python setting.
    pub replay_store_sentinels: Vec<String>,
    /// `--axon.replay_store_ca` / `BT_AXON_REPLAY_STORE_CA`: a PEM file of the CA that
    /// signs a `rediss://` server's certificate (the system's CAs otherwise). Not a Python
    /// setting.
    pub replay_store_ca: Option<String>,
    /// `--axon.replay_store_cert` / `BT_AXON_REPLAY_STORE_CERT`: a PEM client certificate
    /// for a `rediss://` server that asks for one. Not a Python setting.
    pub replay_store_cert: Option<String>,
    /// `--axon.replay_store_key` / `BT_AXON_REPLAY_STORE_KEY`: its PEM private key. Not a
    /// Python setting.
    pub replay_store_key: Option<String>,
    /// `--axon.reuse_port` / `BT_AXON_REUSE_PORT`: open the port with `SO_REUSEPORT`, so
    /// that several processes on this host share it (off). Not a Python setting.
    pub reuse_port: bool,
    /// `--axon.trusted_proxy` (repeatable) / `BT_AXON_TRUSTED_PROXIES` (comma-separated):
    /// the reverse proxies in front of the axon, addresses or networks (none); see
    /// [`Axon::trusted_proxies`](crate::Axon::trusted_proxies). Not a Python setting.
    pub trusted_proxies: Vec<String>,
    /// `--axon.tls_cert` / `BT_AXON_TLS_CERT`: the PEM certificate chain served to TLS
    /// clients on the axon's port, beside plain HTTP (none: plain HTTP only; feature
    /// `tls`). Not a Python setting.
    pub tls_cert: Option<String>,
    /// `--axon.tls_key` / `BT_AXON_TLS_KEY`: its PEM private key. Not a Python setting.
    pub tls_key: Option<String>,
    /// `--axon.tls_generate` / `BT_AXON_TLS_GENERATE`: serve TLS with an ed25519 key and
    /// self-signed certificate made on first start and kept in `tls_dir` (off). Not a
    /// Python setting.
    pub tls_generate: bool,
    /// `--axon.tls_dir` / `BT_AXON_TLS_DIR`: where `tls_generate` keeps them
    /// (`~/.bittensor/tls/<hotkey>/`). Not a Python setting.
    pub tls_dir: Option<String>,
}

impl Default for AxonConfig {
    fn default() -> Self {
        AxonConfig {
            port: 8091,
            ip: "[::]".into(),
            external_ip: None,
            external_port: None,
            max_workers: 10,
            priority_maxsize: crate::pipeline::DEFAULT_MAX_WAITING,
            replay_store: None,
            replay_store_local_fallback: false,
            replay_store_cluster: false,
            replay_store_sentinels: Vec::new(),
            replay_store_ca: None,
            replay_store_cert: None,
            replay_store_key: None,
            reuse_port: false,
            trusted_proxies: Vec::new(),
            tls_cert: None,
            tls_key: None,
            tls_generate: false,
            tls_dir: None,
        }
    }
}

/// One setting's flag, as [`Config::flags`] lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Flag {
    /// `--section.name`.
    pub flag: &'static str,
    /// Whether it is a boolean (`--flag`, `--flag=true|false`).
    pub boolean: bool,
    /// Whether it may be given several times, each value added.
    pub repeatable: bool,
}

/// Which hotkey to load (Python's `config.wallet`).
///
/// ```
/// let w = axon::config::WalletConfig::default();
/// assert_eq!((w.name.as_str(), w.hotkey.as_str()), ("default", "default"));
/// assert_eq!(w.path, "~/.bittensor/wallets/");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalletConfig {
    /// `--wallet.name` / `BT_WALLET_NAME` ("default").
    pub name: String,
    /// `--wallet.hotkey` / `BT_WALLET_HOTKEY` ("default").
    pub hotkey: String,
    /// `--wallet.path` / `BT_WALLET_PATH` (`~/.bittensor/wallets/`).
    pub path: String,
}

impl Default for WalletConfig {
    fn default() -> Self {
        WalletConfig {
            name: "default".into(),
            hotkey: "default".into(),
            path: DEFAULT_WALLET_PATH.into(),
        }
    }
}

/// What to log and where (Python's `config.logging`); [`logging::init`](crate::logging::init)
/// applies it.
///
/// The switches are off unless given, as flags (`--logging.debug`) or as variables, which
/// turn them on when set to anything non-empty (bittensor 10.5.0 reads them with
/// `bool(os.getenv(..))`, so even `BT_LOGGING_DEBUG=0` turns debugging on).
///
/// ```
/// let l = axon::config::LoggingConfig::default();
/// assert!(!l.debug && !l.trace && !l.info && !l.record_log);
/// assert_eq!(l.logging_dir, "~/.bittensor/miners");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggingConfig {
    /// `--logging.debug` / `BT_LOGGING_DEBUG`: every request in and out.
    pub debug: bool,
    /// `--logging.trace` / `BT_LOGGING_TRACE`: everything.
    pub trace: bool,
    /// `--logging.info` / `BT_LOGGING_INFO`: the startup banner, refusals and failures (also
    /// the default here; Python's default shows warnings only).
    pub info: bool,
    /// `--logging.record_log` / `BT_LOGGING_RECORD_LOG`: also write `bittensor.log` under
    /// `logging_dir`.
    pub record_log: bool,
    /// `--logging.logging_dir` / `BT_LOGGING_LOGGING_DIR` (`~/.bittensor/miners`).
    pub logging_dir: String,
    /// `--logging.enable_third_party_loggers` / `BT_LOGGING_ENABLE_THIRD_PARTY_LOGGERS`:
    /// accepted as Python accepts it, without effect (other crates' lines follow the level).
    pub enable_third_party_loggers: bool,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            debug: false,
            trace: false,
            info: false,
            record_log: false,
            logging_dir: "~/.bittensor/miners".into(),
            enable_third_party_loggers: false,
        }
    }
}

/// Every section.
///
/// ```
/// use axon::config::Config;
///
/// let args = ["--axon.port", "9000", "--wallet.name=miner", "--dev-key", "//Bob"];
/// let (config, rest) = Config::parse(args.map(String::from), |var| match var {
///     "BT_AXON_PORT" => Some("7000".into()), // a flag wins over the environment
///     "BT_WALLET_HOTKEY" => Some("hk".into()),
///     _ => None,
/// })
/// .unwrap();
/// assert_eq!(config.axon.port, 9000);
/// assert_eq!((config.wallet.name.as_str(), config.wallet.hotkey.as_str()), ("miner", "hk"));
/// assert_eq!(rest, ["--dev-key", "//Bob"]); // other flags are the program's own
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// `--axon.*`.
    pub axon: AxonConfig,
    /// `--wallet.*`.
    pub wallet: WalletConfig,
    /// `--logging.*`.
    pub logging: LoggingConfig,
    /// `--subtensor.*`.
    pub subtensor: SubtensorConfig,
    /// `--auth.*`: which crypto type each signed-HTTP sender signs with (the
    /// [`pins`](crate::auth::AuthConfig::pins) of [`Axon::auth`](crate::Axon::auth)).
    pub auth: crate::auth::Pins,
    /// `--netuid`: the subnet (the subnet template's flag); `None` when not given.
    pub netuid: Option<u16>,
}

/// A setting that could not be read: names the flag or variable and what it expects.
///
/// ```
/// use axon::config::{Config, ConfigErrorKind};
///
/// let err = Config::parse(["--axon.port=x".to_string()], |_| None).unwrap_err();
/// assert_eq!(err.to_string(), "--axon.port: `x` is not a port (0-65535)");
/// assert_eq!(err.setting(), "--axon.port");
/// assert!(matches!(err.kind(), ConfigErrorKind::Invalid { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    setting: String,
    kind: ConfigErrorKind,
}

/// What was wrong with a setting.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// A flag in a settings section (`--axon.`, `--wallet.`, ..) that is no setting.
    Unknown {
        /// Every setting's flag.
        known: Vec<&'static str>,
    },
    /// A flag that needs a value was last, with none after it.
    MissingValue,
    /// A value the setting cannot take.
    Invalid {
        /// What the value must be, with the value given.
        expected: String,
    },
}

impl ConfigError {
    /// The flag or variable that was wrong, as given.
    pub fn setting(&self) -> &str {
        &self.setting
    }

    /// What was wrong.
    pub fn kind(&self) -> &ConfigErrorKind {
        &self.kind
    }

    fn invalid(setting: &str, expected: String) -> Self {
        ConfigError {
            setting: setting.to_owned(),
            kind: ConfigErrorKind::Invalid { expected },
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let setting = &self.setting;
        match &self.kind {
            ConfigErrorKind::Unknown { known } => write!(
                f,
                "unknown setting {setting}: the settings are {}",
                known.join(", ")
            ),
            ConfigErrorKind::MissingValue => write!(f, "{setting} needs a value"),
            ConfigErrorKind::Invalid { expected } => write!(f, "{setting}: {expected}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process's arguments (after the program name) and environment; returns the
    /// arguments that are not settings.
    ///
    /// ```no_run
    /// let (config, _rest) = axon::config::Config::from_process().unwrap();
    /// println!("port {}", config.axon.port);
    /// ```
    pub fn from_process() -> Result<(Config, Vec<String>), ConfigError> {
        Config::parse(std::env::args().skip(1), |var| std::env::var(var).ok())
    }

    /// Reads `args` over the variables `env` gives over the defaults, and returns the
    /// arguments that are not settings (the program's own).
    ///
    /// - A value is given as `--flag value` or `--flag=value`; empty variables count as
    ///   unset, as in Python.
    /// - A boolean is on when its flag is given alone; `--flag true|false` or
    ///   `--flag=true|false` say which. Its variable takes `true` or `false`, except
    ///   bittensor's own `BT_LOGGING_*` switches, which any non-empty value turns on (as
    ///   bittensor reads them).
    /// - A repeatable setting adds each value given; its variable holds them separated by
    ///   commas, and the flags, when given, replace the variable's.
    /// - A flag in a settings section that is no setting is an error.
    ///
    /// ```
    /// use axon::config::Config;
    ///
    /// let (c, _) = Config::parse(Vec::new(), |_| None).unwrap();
    /// assert_eq!(c, Config::default());
    /// let args = ["--axon.reuse_port", "--logging.debug", "false", "--axon.port", "1"];
    /// let (c, rest) = Config::parse(args.map(String::from), |_| None).unwrap();
    /// assert!(c.axon.reuse_port && !c.logging.debug && rest.is_empty());
    /// ```
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(Config, Vec<String>), ConfigError> {
        let mut config = Config::default();
        for setting in SETTINGS.iter().filter(|s| !s.var.is_empty()) {
            if let Some(value) = env(setting.var).filter(|v| !v.is_empty()) {
                match setting.value {
                    Value::PythonSwitch => config.apply(setting, setting.var, "true")?,
                    Value::Bool => {
                        config.apply(setting, setting.var, boolean(setting.var, &value)?)?
                    }
                    Value::Repeated { .. } => {
                        for one in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                            config.apply(setting, setting.var, one)?;
                        }
                    }
                    Value::One(_) => config.apply(setting, setting.var, &value)?,
                }
            }
        }
        config.subtensor.local = config.subtensor.chain_endpoint.clone();
        let mut repeated: Vec<&'static str> = Vec::new();
        let mut rest = Vec::new();
        let mut args = args.into_iter().peekable();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            if !SETTINGS.iter().any(|s| s.covers(&name)) {
                rest.push(arg);
                continue;
            }
            let Some(setting) = SETTINGS.iter().find(|s| s.flag == name) else {
                return Err(ConfigError {
                    setting: name,
                    kind: ConfigErrorKind::Unknown {
                        known: SETTINGS.iter().map(|s| s.flag).collect(),
                    },
                });
            };
            let value = match (setting.is_bool(), inline) {
                (true, Some(value)) => boolean(setting.flag, &value)?.to_owned(),
                (true, None) => match args.next_if(|next| boolean(setting.flag, next).is_ok()) {
                    Some(value) => boolean(setting.flag, &value)?.to_owned(),
                    None => "true".to_owned(),
                },
                (false, Some(value)) => value,
                (false, None) => args.next().ok_or_else(|| ConfigError {
                    setting: setting.flag.to_owned(),
                    kind: ConfigErrorKind::MissingValue,
                })?,
            };
            // A repeated setting given on the command line replaces its variable's values.
            if let Value::Repeated { clear, .. } = setting.value {
                if !repeated.contains(&setting.flag) {
                    repeated.push(setting.flag);
                    clear(&mut config);
                }
            }
            config.apply(setting, setting.flag, &value)?;
        }
        Ok((config, rest))
    }

    /// Sets `setting` from `value`; `source` (its flag or variable) names it in errors.
    fn apply(&mut self, setting: &Setting, source: &str, value: &str) -> Result<(), ConfigError> {
        (setting.apply)(self, value).map_err(|expected| ConfigError::invalid(source, expected))
    }

    /// Every setting's flag, in `--help`'s order: for a binding that reads another
    /// program's configuration (a bittensor config object) into these.
    ///
    /// ```
    /// let flags: Vec<_> = axon::config::Config::flags().collect();
    /// let port = flags.iter().find(|f| f.flag == "--axon.port").unwrap();
    /// assert!(!port.boolean && !port.repeatable);
    /// assert!(flags.iter().any(|f| f.flag == "--axon.reuse_port" && f.boolean));
    /// assert!(flags.iter().any(|f| f.flag == "--axon.trusted_proxy" && f.repeatable));
    /// ```
    pub fn flags() -> impl Iterator<Item = Flag> {
        SETTINGS.iter().map(|s| Flag {
            flag: s.flag,
            boolean: s.is_bool(),
            repeatable: matches!(s.value, Value::Repeated { .. }),
        })
    }

    /// Every setting with its variable and default, for a program's `--help`.
    ///
    /// ```
    /// let help = axon::config::Config::help();
    /// assert!(help.contains("--axon.port PORT"));
    /// assert!(help.contains("BT_AXON_PORT"));
    /// assert!(help.contains("--logging.debug [BOOL]"));
    /// ```
    pub fn help() -> String {
        let defaults = Config::default();
        let mut out = String::from(
            "Settings (a flag wins over its variable; BOOL is true or false, on when the flag is \
             given alone):\n",
        );
        for setting in SETTINGS {
            let value = match setting.value {
                Value::One(name) => format!(" {name}"),
                Value::Repeated { name, .. } => format!(" {name} (repeatable)"),
                Value::Bool | Value::PythonSwitch => " [BOOL]".to_owned(),
            };
            let var = match setting.var {
                "" => String::new(),
                var => format!("{var}; "),
            };
            let default = (setting.show)(&defaults).unwrap_or_else(|| setting.unset.to_owned());
            let default = if default.is_empty() {
                setting.unset.to_owned()
            } else {
                default
            };
            out.push_str(&format!(
                "  {:<28} {} [{var}default {default}]\n",
                format!("{}{value}", setting.flag),
                setting.help
            ));
        }
        out
    }
}

/// A boolean's value, `true` or `false`, as `setting` reads it.
fn boolean(setting: &str, value: &str) -> Result<&'static str, ConfigError> {
    match value.trim() {
        "true" => Ok("true"),
        "false" => Ok("false"),
        other => Err(ConfigError::invalid(
            setting,
            format!("`{other}` is not true or false"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::settings::SETTINGS;
    use super::Config;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::parse(args.iter().map(|a| a.to_string()), |var| {
            env.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone())
        })
        .map(|(c, _)| c)
        .map_err(|e| e.to_string())
    }

    #[test]
    fn every_setting_reads_from_its_flag_and_its_variable() {
        let from_flags = parse(
            &[
                "--axon.port",
                "1",
                "--axon.ip=127.0.0.1",
                "--axon.external_ip",
                "1.2.3.4",
                "--axon.external_port=2",
                "--axon.max_workers",
                "3",
                "--priority.maxsize=4",
                "--wallet.name",
                "n",
                "--wallet.hotkey=h",
                "--wallet.path",
                "/p",
            ],
            &[],
        )
        .unwrap();
        let from_env = parse(
            &[],
            &[
                ("BT_AXON_PORT", "1"),
                ("BT_AXON_IP", "127.0.0.1"),
                ("BT_AXON_EXTERNAL_IP", "1.2.3.4"),
                ("BT_AXON_EXTERNAL_PORT", "2"),
                ("BT_AXON_MAX_WORKERS", "3"),
                ("BT_PRIORITY_MAXSIZE", "4"),
                ("BT_WALLET_NAME", "n"),
                ("BT_WALLET_HOTKEY", "h"),
                ("BT_WALLET_PATH", "/p"),
            ],
        )
        .unwrap();
        assert_eq!(from_flags, from_env);
        assert_eq!(from_flags.axon.port, 1);
        assert_eq!(from_flags.axon.ip, "127.0.0.1");
        assert_eq!(from_flags.axon.external_ip.as_deref(), Some("1.2.3.4"));
        assert_eq!(from_flags.axon.external_port, Some(2));
        assert_eq!(from_flags.axon.max_workers, 3);
        assert_eq!(from_flags.axon.priority_maxsize, 4);
        assert_eq!(from_flags.wallet.name, "n");
        assert_eq!(from_flags.wallet.hotkey, "h");
        assert_eq!(from_flags.wallet.path, "/p");
    }

    #[test]
    fn empty_variables_are_unset_and_flags_win() {
        let c = parse(
            &["--axon.port=5"],
            &[("BT_AXON_PORT", "6"), ("BT_AXON_IP", "")],
        )
        .unwrap();
        assert_eq!((c.axon.port, c.axon.ip.as_str()), (5, "[::]"));
    }

    #[test]
    fn bad_values_name_their_source() {
        assert_eq!(
            parse(&[], &[("BT_AXON_PORT", "70000")]).unwrap_err(),
            "BT_AXON_PORT: `70000` is not a port (0-65535)"
        );
        assert_eq!(
            parse(&["--axon.max_workers", "0"], &[]).unwrap_err(),
            "--axon.max_workers: `0` is not a positive number of workers"
        );
        assert_eq!(
            parse(&[], &[("BT_PRIORITY_MAXSIZE", "many")]).unwrap_err(),
            "BT_PRIORITY_MAXSIZE: `many` is not a number of waiting requests"
        );
        assert_eq!(
            parse(&["--axon.port"], &[]).unwrap_err(),
            "--axon.port needs a value"
        );
        assert!(parse(&["--axon.prot", "1"], &[])
            .unwrap_err()
            .starts_with("unknown setting --axon.prot: the settings are --axon.port, "));
    }

    #[test]
    fn booleans_take_an_optional_value_and_python_switches_any_non_empty_variable() {
        let c = parse(&["--logging.debug", "--logging.logging_dir", "/tmp/l"], &[]).unwrap();
        assert!(c.logging.debug && !c.logging.trace && !c.logging.record_log);
        assert_eq!(c.logging.logging_dir, "/tmp/l");
        let c = parse(
            &[
                "--axon.reuse_port",
                "false",
                "--logging.debug=true",
                "--logging.trace",
            ],
            &[],
        );
        let c = c.unwrap();
        assert!(!c.axon.reuse_port && c.logging.debug && c.logging.trace);
        // A word after a boolean that is not true or false is the next argument.
        let (c, rest) =
            Config::parse(["--axon.reuse_port", "serve"].map(String::from), |_| None).unwrap();
        assert!(c.axon.reuse_port);
        assert_eq!(rest, ["serve"]);
        assert_eq!(
            parse(&["--axon.reuse_port=yes"], &[]).unwrap_err(),
            "--axon.reuse_port: `yes` is not true or false"
        );
        // bittensor 10.5.0: `bool(os.getenv("BT_LOGGING_TRACE"))`, so "0" is on too.
        let c = parse(
            &[],
            &[("BT_LOGGING_TRACE", "0"), ("BT_LOGGING_RECORD_LOG", "")],
        )
        .unwrap();
        assert!(c.logging.trace && !c.logging.record_log);
        // The axon's own booleans read their variable as true or false.
        assert!(
            !parse(&[], &[("BT_AXON_REUSE_PORT", "false")])
                .unwrap()
                .axon
                .reuse_port
        );
        assert_eq!(
            parse(&[], &[("BT_AXON_REUSE_PORT", "1")]).unwrap_err(),
            "BT_AXON_REUSE_PORT: `1` is not true or false"
        );
        // Python's switch for third-party loggers is accepted (and has nothing to change).
        assert!(parse(&["--logging.enable_third_party_loggers"], &[]).is_ok());
    }

    #[test]
    fn a_repeated_setting_adds_each_value_and_its_flags_replace_its_variable() {
        let c = parse(
            &[
                "--axon.trusted_proxy",
                "10.0.0.1",
                "--axon.trusted_proxy=10.1.0.0/16",
            ],
            &[("BT_AXON_TRUSTED_PROXIES", "192.0.2.1")],
        )
        .unwrap();
        assert_eq!(c.axon.trusted_proxies, ["10.0.0.1", "10.1.0.0/16"]);
        let c = parse(&[], &[("BT_AXON_TRUSTED_PROXIES", "192.0.2.1, 192.0.2.2")]).unwrap();
        assert_eq!(c.axon.trusted_proxies, ["192.0.2.1", "192.0.2.2"]);
    }

    #[test]
    fn unknown_settings_are_errors_and_other_flags_are_the_programs() {
        let err = Config::parse(["--wallet.hotkeys".to_string(), "x".into()], |_| None);
        let err = err.unwrap_err();
        assert_eq!(err.setting(), "--wallet.hotkeys");
        assert!(
            matches!(err.kind(), super::ConfigErrorKind::Unknown { known } if known.len() == SETTINGS.len())
        );
        let (_, rest) =
            Config::parse(["--netuidx", "--dev-key"].map(String::from), |_| None).unwrap();
        assert_eq!(rest, ["--netuidx", "--dev-key"]);
    }

    /// Every row: its flag and its variable set it alike, to a value that is not its
    /// default, and `--help` shows its flag, its variable and `Config::default()`'s value.
    #[test]
    fn every_setting_in_the_table_reads_its_flag_and_variable_and_shows_its_default() {
        let help = Config::help();
        let defaults = Config::default();
        for setting in SETTINGS {
            let from_flag = parse(&[setting.flag, setting.example], &[]).unwrap();
            assert_ne!(
                from_flag, defaults,
                "{} {} changed nothing",
                setting.flag, setting.example
            );
            let shown = (setting.show)(&from_flag).unwrap();
            assert_eq!(shown, setting.example, "{}", setting.flag);
            if !setting.var.is_empty() {
                let mut from_var = parse(&[], &[(setting.var, setting.example)]).unwrap();
                // BT_SUBTENSOR_CHAIN_ENDPOINT also says what `local` means, as in Python.
                from_var.subtensor.local = None;
                assert_eq!(from_flag, from_var, "{} and {}", setting.flag, setting.var);
            }
            let inline = format!("{}={}", setting.flag, setting.example);
            assert_eq!(parse(&[&inline], &[]).unwrap(), from_flag, "{inline}");
            let line = help
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{} ", setting.flag)))
                .unwrap_or_else(|| panic!("{} is not in --help:\n{help}", setting.flag));
            let default = (setting.show)(&defaults)
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| setting.unset.to_owned());
            assert!(line.ends_with(&format!("default {default}]")), "{line}");
            assert!(line.contains(setting.var), "{line}");
        }
        assert_eq!(help.lines().count(), SETTINGS.len() + 1);
    }

    #[test]
    fn the_process_settings_read_as_their_docs_say() {
        let c = parse(
            &["--axon.replay_store", "redis://h:1/2", "--axon.reuse_port"],
            &[("BT_AXON_REPLAY_STORE_FALLBACK", "local")],
        )
        .unwrap();
        assert_eq!(c.axon.replay_store.as_deref(), Some("redis://h:1/2"));
        assert!(c.axon.reuse_port && c.axon.replay_store_local_fallback);
        let d = Config::default();
        assert!(d.axon.replay_store.is_none() && !d.axon.reuse_port);
        assert!(!d.axon.replay_store_local_fallback);
        assert_eq!(
            parse(&["--axon.replay_store_fallback=open"], &[]).unwrap_err(),
            "--axon.replay_store_fallback: `open` is not refuse or local"
        );
    }
}

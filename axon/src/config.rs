//! Configuration as Python's: `--axon.*`, `--wallet.*` and `--logging.*` flags over `BT_*`
//! environment variables over Python's defaults. [`Config::help`] lists them all.

use crate::keys::DEFAULT_WALLET_PATH;
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
    /// processes serving this hotkey, `redis://[:password@]host:port[/db]` (none: this
    /// process's own only). Not a Python setting.
    pub replay_store: Option<String>,
    /// `--axon.replay_store_fallback` / `BT_AXON_REPLAY_STORE_FALLBACK`: when the shared
    /// store does not answer, `refuse` (503, the default) or `local` (serve on this
    /// process's own store alone). Not a Python setting.
    pub replay_store_local_fallback: bool,
    /// `--axon.reuse_port` / `BT_AXON_REUSE_PORT`: open the port with `SO_REUSEPORT`, so
    /// that several processes on this host share it (off). Not a Python setting.
    pub reuse_port: bool,
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
            reuse_port: false,
        }
    }
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
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            debug: false,
            trace: false,
            info: false,
            record_log: false,
            logging_dir: "~/.bittensor/miners".into(),
        }
    }
}

/// Which chain to talk to (Python's `config.subtensor`), resolved by
/// [`endpoint`](SubtensorConfig::endpoint) as bittensor 10.5.0 resolves it, measured side by
/// side (`tests/python/subtensor_config.py`): a network name maps to its endpoint (`local`
/// to `BT_SUBTENSOR_CHAIN_ENDPOINT` or `ws://127.0.0.1:9944`), a network that is an address
/// is used as one, and an explicit network wins over `--subtensor.chain_endpoint`.
///
/// One difference, on purpose: Python ignores `--subtensor.chain_endpoint` given alone
/// (its default network wins and it connects to finney); here the endpoint given alone is
/// the one used, as Python's own help text says it should be.
///
/// ```
/// use axon::config::Config;
/// let endpoint = |args: &[&str]| {
///     let (c, _) = Config::parse(args.iter().map(|a| a.to_string()), |_| None).unwrap();
///     c.subtensor.endpoint()
/// };
/// assert_eq!(endpoint(&[]), ("finney".into(), "wss://entrypoint-finney.opentensor.ai:443".into()));
/// assert_eq!(endpoint(&["--subtensor.network", "local"]), ("local".into(), "ws://127.0.0.1:9944".into()));
/// assert_eq!(endpoint(&["--subtensor.chain_endpoint", "ws://10.0.0.2:9944"]).1, "ws://10.0.0.2:9944");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubtensorConfig {
    /// `--subtensor.network` / `BT_SUBTENSOR_NETWORK`: `finney`, `test`, `archive`,
    /// `local`, `latent-lite`, or an address; `None` when not given (finney).
    pub network: Option<String>,
    /// `--subtensor.chain_endpoint` / `BT_SUBTENSOR_CHAIN_ENDPOINT`: `ws://` or `wss://`.
    pub chain_endpoint: Option<String>,
    /// `BT_SUBTENSOR_CHAIN_ENDPOINT` alone: what `local` means, as in Python.
    local: Option<String>,
}

/// Python's `settings.NETWORK_MAP`.
const NETWORKS: [(&str, &str); 5] = [
    ("finney", "wss://entrypoint-finney.opentensor.ai:443"),
    ("test", "wss://test.finney.opentensor.ai:443"),
    ("archive", "wss://archive.chain.opentensor.ai:443"),
    ("local", "ws://127.0.0.1:9944"),
    ("latent-lite", "wss://lite.sub.latent.to:443"),
];

impl SubtensorConfig {
    /// The network's name and the endpoint to dial (see the type's docs).
    pub fn endpoint(&self) -> (String, String) {
        let given = self
            .network
            .as_deref()
            .or(self.chain_endpoint.as_deref())
            .unwrap_or("finney");
        if let Some((name, url)) = NETWORKS.iter().find(|(n, _)| *n == given) {
            let url = match (*name, &self.local) {
                ("local", Some(local)) => local.clone(),
                _ => (*url).to_owned(),
            };
            return (name.to_string(), url);
        }
        let url = if given.starts_with("ws://") || given.starts_with("wss://") {
            given.to_owned()
        } else {
            format!("ws://{given}")
        };
        let name = [
            ("entrypoint-finney.opentensor.ai", "finney"),
            ("test.finney.opentensor.ai", "test"),
            ("archive.chain.opentensor.ai", "archive"),
            ("127.0.0.1", "local"),
            ("localhost", "local"),
        ]
        .iter()
        .find(|(part, _)| given.contains(part))
        .map_or("unknown", |(_, name)| name);
        let url = match name {
            "finney" | "test" | "archive" => NETWORKS
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap()
                .1
                .to_owned(),
            _ => url,
        };
        (name.to_owned(), url)
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
    /// `--netuid`: the subnet (the subnet template's flag); `None` when not given.
    pub netuid: Option<u16>,
}

/// A setting that could not be read: names the flag or variable and what it expects.
///
/// ```
/// let err = axon::config::Config::parse(["--axon.port=x".to_string()], |_| None).unwrap_err();
/// assert_eq!(err.to_string(), "--axon.port: `x` is not a port (0-65535)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Every setting: flag, environment variable, default, what it does.
const SETTINGS: [(&str, &str, &str, &str); 21] = [
    (
        "--axon.port",
        "BT_AXON_PORT",
        "8091",
        "the local port (0: any free one)",
    ),
    (
        "--axon.ip",
        "BT_AXON_IP",
        "[::]",
        "the local address ([::] is IPv6 and IPv4)",
    ),
    (
        "--axon.external_ip",
        "BT_AXON_EXTERNAL_IP",
        "discovered",
        "the address announced to the network",
    ),
    (
        "--axon.external_port",
        "BT_AXON_EXTERNAL_PORT",
        "the local port",
        "the port announced to the network",
    ),
    (
        "--axon.max_workers",
        "BT_AXON_MAX_WORKERS",
        "10",
        "forwards running at once",
    ),
    (
        "--priority.maxsize",
        "BT_PRIORITY_MAXSIZE",
        "1024",
        "requests waiting for a worker before 503",
    ),
    (
        "--axon.replay_store",
        "BT_AXON_REPLAY_STORE",
        "none",
        "a replay store shared with other processes: redis://host:port[/db]",
    ),
    (
        "--axon.replay_store_fallback",
        "BT_AXON_REPLAY_STORE_FALLBACK",
        "refuse",
        "when the shared store does not answer: refuse (503) or local (this process's store only)",
    ),
    (
        "--axon.reuse_port",
        "BT_AXON_REUSE_PORT",
        "off",
        "share the port with other processes on this host (SO_REUSEPORT)",
    ),
    (
        "--wallet.name",
        "BT_WALLET_NAME",
        "default",
        "the wallet (coldkey) name",
    ),
    (
        "--wallet.hotkey",
        "BT_WALLET_HOTKEY",
        "default",
        "the hotkey name",
    ),
    (
        "--wallet.path",
        "BT_WALLET_PATH",
        "~/.bittensor/wallets/",
        "where wallets are",
    ),
    (
        "--logging.debug",
        "BT_LOGGING_DEBUG",
        "off",
        "log every request in and out",
    ),
    (
        "--logging.trace",
        "BT_LOGGING_TRACE",
        "off",
        "log everything",
    ),
    (
        "--logging.info",
        "BT_LOGGING_INFO",
        "off (info is the default)",
        "log the banner, refusals and failures",
    ),
    (
        "--logging.record_log",
        "BT_LOGGING_RECORD_LOG",
        "off",
        "also write bittensor.log under --logging.logging_dir",
    ),
    (
        "--logging.logging_dir",
        "BT_LOGGING_LOGGING_DIR",
        "~/.bittensor/miners",
        "where bittensor.log goes",
    ),
    (
        "--logging.enable_third_party_loggers",
        "BT_LOGGING_ENABLE_THIRD_PARTY_LOGGERS",
        "off",
        "accepted as in Python; other crates' tracing lines follow the level anyway",
    ),
    (
        "--subtensor.network",
        "BT_SUBTENSOR_NETWORK",
        "finney",
        "finney, test, archive, local, latent-lite, or an address",
    ),
    (
        "--subtensor.chain_endpoint",
        "BT_SUBTENSOR_CHAIN_ENDPOINT",
        "the network's",
        "the node to dial (ws:// or wss://); an explicit network wins",
    ),
    (
        "--netuid",
        "",
        "none",
        "the subnet to publish on and read the metagraph of",
    ),
];

/// The settings that take no value: given means on.
const SWITCHES: [&str; 6] = [
    "--axon.reuse_port",
    "--logging.debug",
    "--logging.trace",
    "--logging.info",
    "--logging.record_log",
    "--logging.enable_third_party_loggers",
];

impl Config {
    /// Reads the process's arguments (after the program name) and environment; returns the
    /// arguments that are not `--axon.*` / `--wallet.*` settings.
    ///
    /// ```no_run
    /// let (config, _rest) = axon::config::Config::from_process().unwrap();
    /// println!("port {}", config.axon.port);
    /// ```
    pub fn from_process() -> Result<(Config, Vec<String>), ConfigError> {
        Config::parse(std::env::args().skip(1), |var| std::env::var(var).ok())
    }

    /// Reads `args` over the variables `env` gives over the defaults. Flags take
    /// `--flag value` or `--flag=value`; empty variables count as unset, as in Python.
    ///
    /// ```
    /// let (c, _) = axon::config::Config::parse(Vec::new(), |_| None).unwrap();
    /// assert_eq!(c, axon::config::Config::default());
    /// ```
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(Config, Vec<String>), ConfigError> {
        let mut config = Config::default();
        for (flag, var, _, _) in SETTINGS {
            if let Some(value) = env(var).filter(|v| !var.is_empty() && !v.is_empty()) {
                config.set(flag, var, value)?;
            }
        }
        config.subtensor.local = config.subtensor.chain_endpoint.clone();
        let mut rest = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            if !(name.starts_with("--axon.")
                || name.starts_with("--wallet.")
                || name.starts_with("--priority.")
                || name.starts_with("--logging.")
                || name.starts_with("--subtensor.")
                || name == "--netuid")
            {
                rest.push(arg);
                continue;
            }
            let Some(&(flag, _, _, _)) = SETTINGS.iter().find(|(f, ..)| *f == name) else {
                let known: Vec<&str> = SETTINGS.iter().map(|(f, ..)| *f).collect();
                return Err(ConfigError(format!(
                    "unknown setting {name}: the settings are {}",
                    known.join(", ")
                )));
            };
            if SWITCHES.contains(&flag) {
                if let Some(value) = inline {
                    return Err(ConfigError(format!(
                        "{flag} takes no value (given, it is on): remove `={value}`"
                    )));
                }
                config.set(flag, flag, String::new())?;
                continue;
            }
            let value = match inline.or_else(|| args.next()) {
                Some(v) => v,
                None => return Err(ConfigError(format!("{flag} needs a value"))),
            };
            config.set(flag, flag, value)?;
        }
        Ok((config, rest))
    }

    /// Sets `flag` from `value`; `source` names it in errors.
    fn set(&mut self, flag: &str, source: &str, value: String) -> Result<(), ConfigError> {
        let port = |v: &str| {
            v.trim()
                .parse::<u16>()
                .map_err(|_| ConfigError(format!("{source}: `{v}` is not a port (0-65535)")))
        };
        match flag {
            "--axon.port" => self.axon.port = port(&value)?,
            "--axon.ip" => self.axon.ip = value,
            "--axon.external_ip" => self.axon.external_ip = Some(value),
            "--axon.external_port" => self.axon.external_port = Some(port(&value)?),
            "--axon.max_workers" => {
                self.axon.max_workers = value
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "{source}: `{value}` is not a positive number of workers"
                        ))
                    })?
            }
            "--priority.maxsize" => {
                self.axon.priority_maxsize = value.trim().parse::<usize>().map_err(|_| {
                    ConfigError(format!(
                        "{source}: `{value}` is not a number of waiting requests"
                    ))
                })?
            }
            "--axon.replay_store" => self.axon.replay_store = Some(value),
            "--axon.reuse_port" => self.axon.reuse_port = true,
            "--axon.replay_store_fallback" => {
                self.axon.replay_store_local_fallback = match value.trim() {
                    "refuse" => false,
                    "local" => true,
                    other => {
                        return Err(ConfigError(format!(
                            "{source}: `{other}` is not refuse or local"
                        )))
                    }
                }
            }
            "--wallet.name" => self.wallet.name = value,
            "--wallet.hotkey" => self.wallet.hotkey = value,
            "--wallet.path" => self.wallet.path = value,
            "--logging.debug" => self.logging.debug = true,
            "--logging.trace" => self.logging.trace = true,
            "--logging.info" => self.logging.info = true,
            "--logging.record_log" => self.logging.record_log = true,
            "--logging.logging_dir" => self.logging.logging_dir = value,
            "--subtensor.network" => self.subtensor.network = Some(value),
            "--subtensor.chain_endpoint" => self.subtensor.chain_endpoint = Some(value),
            "--netuid" => {
                self.netuid = Some(value.trim().parse::<u16>().map_err(|_| {
                    ConfigError(format!("{source}: `{value}` is not a subnet uid (0-65535)"))
                })?)
            }
            // Python's switch for other libraries' loggers: here they follow the level.
            _ => {}
        }
        Ok(())
    }

    /// Every setting with its variable and default, for a program's `--help`.
    ///
    /// ```
    /// let help = axon::config::Config::help();
    /// assert!(help.contains("--axon.port PORT"));
    /// assert!(help.contains("BT_AXON_PORT"));
    /// assert!(help.contains("--logging.debug "));
    /// ```
    pub fn help() -> String {
        let mut out = String::from("Settings (a flag wins over its variable):\n");
        for (flag, var, default, what) in SETTINGS {
            let value = match flag {
                _ if SWITCHES.contains(&flag) => "",
                "--axon.port" | "--axon.external_port" => " PORT",
                "--axon.ip" | "--axon.external_ip" => " IP",
                "--axon.max_workers" | "--priority.maxsize" => " N",
                "--wallet.path" | "--logging.logging_dir" => " DIR",
                "--subtensor.chain_endpoint" | "--axon.replay_store" => " URL",
                "--axon.replay_store_fallback" => " RULE",
                "--netuid" => " N",
                _ => " NAME",
            };
            let var = match var {
                "" => String::new(),
                var => format!("{var}; "),
            };
            out.push_str(&format!(
                "  {:<28} {what} [{var}default {default}]\n",
                format!("{flag}{value}")
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
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
    fn logging_switches_take_no_value_and_any_non_empty_variable_turns_them_on() {
        let c = parse(&["--logging.debug", "--logging.logging_dir", "/tmp/l"], &[]).unwrap();
        assert!(c.logging.debug && !c.logging.trace && !c.logging.record_log);
        assert_eq!(c.logging.logging_dir, "/tmp/l");
        // bittensor 10.5.0: `bool(os.getenv("BT_LOGGING_TRACE"))`, so "0" is on too.
        let c = parse(
            &[],
            &[("BT_LOGGING_TRACE", "0"), ("BT_LOGGING_RECORD_LOG", "")],
        )
        .unwrap();
        assert!(c.logging.trace && !c.logging.record_log);
        // Python's switch for third-party loggers is accepted (and has nothing to change).
        assert!(parse(&["--logging.enable_third_party_loggers"], &[]).is_ok());
        assert_eq!(
            parse(&["--logging.debug=true"], &[]).unwrap_err(),
            "--logging.debug takes no value (given, it is on): remove `=true`"
        );
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

    #[test]
    fn the_help_shows_the_real_defaults() {
        let help = Config::help();
        let d = Config::default();
        for (flag, default) in [
            ("--axon.port PORT", d.axon.port.to_string()),
            ("--axon.max_workers N", d.axon.max_workers.to_string()),
            ("--priority.maxsize N", d.axon.priority_maxsize.to_string()),
            ("--wallet.path DIR", d.wallet.path.clone()),
            ("--logging.logging_dir DIR", d.logging.logging_dir.clone()),
        ] {
            let line = help.lines().find(|l| l.contains(flag)).unwrap();
            assert!(line.ends_with(&format!("default {default}]")), "{line}");
        }
    }
}

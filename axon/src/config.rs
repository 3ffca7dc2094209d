//! Configuration as Python's: `--axon.*` and `--wallet.*` flags over `BT_*` environment
//! variables over Python's defaults.

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

/// Both sections.
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

/// Every setting: flag, environment variable.
const SETTINGS: [(&str, &str); 9] = [
    ("--axon.port", "BT_AXON_PORT"),
    ("--axon.ip", "BT_AXON_IP"),
    ("--axon.external_ip", "BT_AXON_EXTERNAL_IP"),
    ("--axon.external_port", "BT_AXON_EXTERNAL_PORT"),
    ("--axon.max_workers", "BT_AXON_MAX_WORKERS"),
    ("--priority.maxsize", "BT_PRIORITY_MAXSIZE"),
    ("--wallet.name", "BT_WALLET_NAME"),
    ("--wallet.hotkey", "BT_WALLET_HOTKEY"),
    ("--wallet.path", "BT_WALLET_PATH"),
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
        for (flag, var) in SETTINGS {
            if let Some(value) = env(var).filter(|v| !v.is_empty()) {
                config.set(flag, var, value)?;
            }
        }
        let mut rest = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            if !(name.starts_with("--axon.")
                || name.starts_with("--wallet.")
                || name.starts_with("--priority."))
            {
                rest.push(arg);
                continue;
            }
            let Some(&(flag, _)) = SETTINGS.iter().find(|(f, _)| *f == name) else {
                let known: Vec<&str> = SETTINGS.iter().map(|(f, _)| *f).collect();
                return Err(ConfigError(format!(
                    "unknown setting {name}: the settings are {}",
                    known.join(", ")
                )));
            };
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
            "--wallet.name" => self.wallet.name = value,
            "--wallet.hotkey" => self.wallet.hotkey = value,
            _ => self.wallet.path = value,
        }
        Ok(())
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
}

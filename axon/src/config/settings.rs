//! The table of settings: one row per setting drives parsing, the defaults shown and
//! `--help`. Adding a setting is adding a row (and its field); nothing else names it.

use super::Config;

/// How a setting reads its value.
#[derive(Clone, Copy)]
pub(super) enum Value {
    /// One value, named so in `--help` (`PORT`, `IP`, `DIR`, ..): `--flag value` or
    /// `--flag=value`; a later one wins.
    One(&'static str),
    /// A value that may be given several times, each one added (`--flag a --flag b`);
    /// `clear` empties it, for flags that replace the variable's values.
    Repeated {
        name: &'static str,
        clear: fn(&mut Config),
    },
    /// A boolean: `--flag` alone is on, `--flag true|false` and `--flag=true|false` say which.
    /// Its variable takes `true` or `false` too.
    Bool,
    /// A boolean whose variable bittensor reads with `bool(os.getenv(..))`: any non-empty
    /// value, even `0`, turns it on. The flag reads as [`Value::Bool`]'s.
    PythonSwitch,
}

/// One setting.
pub(super) struct Setting {
    /// The flag, `--section.name`.
    pub(super) flag: &'static str,
    /// Its environment variable; empty when it has none.
    pub(super) var: &'static str,
    pub(super) value: Value,
    /// What it does, for `--help`.
    pub(super) help: &'static str,
    /// A value it takes that is not its default (its tests set it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) example: &'static str,
    /// Its value in a config, as `--help` shows the default; `None` when unset.
    pub(super) show: fn(&Config) -> Option<String>,
    /// What an unset value means, for `--help` ("discovered", "none").
    pub(super) unset: &'static str,
    /// Sets it from one value (a boolean's is `true` or `false`); the error says what a
    /// value must be.
    pub(super) apply: fn(&mut Config, &str) -> Result<(), String>,
}

impl Setting {
    /// Whether it is a boolean.
    pub(super) fn is_bool(&self) -> bool {
        matches!(self.value, Value::Bool | Value::PythonSwitch)
    }

    /// Whether `name` is in this setting's section (`--axon.` for `--axon.port`), or is the
    /// flag itself for a setting of no section (`--netuid`).
    pub(super) fn covers(&self, name: &str) -> bool {
        match self.flag.find('.') {
            Some(dot) => name.starts_with(&self.flag[..=dot]),
            None => name == self.flag,
        }
    }
}

fn port(value: &str) -> Result<u16, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a port (0-65535)"))
}

fn on(value: &str) -> bool {
    value == "true"
}

/// Every setting, in `--help`'s order.
pub(super) const SETTINGS: &[Setting] = &[
    Setting {
        flag: "--axon.port",
        example: "9000",
        var: "BT_AXON_PORT",
        value: Value::One("PORT"),
        help: "the local port (0: any free one)",
        show: |c| Some(c.axon.port.to_string()),
        unset: "",
        apply: |c, v| {
            c.axon.port = port(v)?;
            Ok(())
        },
    },
    Setting {
        flag: "--axon.ip",
        example: "127.0.0.1",
        var: "BT_AXON_IP",
        value: Value::One("IP"),
        help: "the local address ([::] is IPv6 and IPv4)",
        show: |c| Some(c.axon.ip.clone()),
        unset: "",
        apply: |c, v| {
            c.axon.ip = v.to_owned();
            Ok(())
        },
    },
    Setting {
        flag: "--axon.external_ip",
        example: "203.0.113.7",
        var: "BT_AXON_EXTERNAL_IP",
        value: Value::One("IP"),
        help: "the address announced to the network",
        show: |c| c.axon.external_ip.clone(),
        unset: "discovered",
        apply: |c, v| {
            c.axon.external_ip = Some(v.to_owned());
            Ok(())
        },
    },
    Setting {
        flag: "--axon.external_port",
        example: "443",
        var: "BT_AXON_EXTERNAL_PORT",
        value: Value::One("PORT"),
        help: "the port announced to the network",
        show: |c| c.axon.external_port.map(|p| p.to_string()),
        unset: "the local port",
        apply: |c, v| {
            c.axon.external_port = Some(port(v)?);
            Ok(())
        },
    },
    Setting {
        flag: "--axon.max_workers",
        example: "64",
        var: "BT_AXON_MAX_WORKERS",
        value: Value::One("N"),
        help: "forwards running at once",
        show: |c| Some(c.axon.max_workers.to_string()),
        unset: "",
        apply: |c, v| {
            let n = v.trim().parse::<usize>().ok().filter(|n| *n > 0);
            let n = n.ok_or_else(|| format!("`{v}` is not a positive number of workers"))?;
            c.axon.max_workers = n;
            Ok(())
        },
    },
    Setting {
        flag: "--priority.maxsize",
        example: "16",
        var: "BT_PRIORITY_MAXSIZE",
        value: Value::One("N"),
        help: "requests waiting for a worker before 503",
        show: |c| Some(c.axon.priority_maxsize.to_string()),
        unset: "",
        apply: |c, v| {
            let n = v.trim().parse::<usize>();
            let n = n.map_err(|_| format!("`{v}` is not a number of waiting requests"))?;
            c.axon.priority_maxsize = n;
            Ok(())
        },
    },
    Setting {
        flag: "--axon.replay_store",
        example: "redis://10.0.0.2:6379/1",
        var: "BT_AXON_REPLAY_STORE",
        value: Value::One("URL"),
        help: "a replay store shared with other processes: redis://[user][:password@]host[:port][/db], rediss:// for TLS (prefer BT_AXON_REPLAY_STORE: a password in a flag shows in ps)",
        show: |c| c.axon.replay_store.clone(),
        unset: "none",
        apply: |c, v| {
            c.axon.replay_store = Some(v.to_owned());
            Ok(())
        },
    },
    Setting {
        flag: "--axon.replay_store_fallback",
        example: "local",
        var: "BT_AXON_REPLAY_STORE_FALLBACK",
        value: Value::One("RULE"),
        help: "when the shared store does not answer: refuse (503) or local (this process's store only)",
        show: |c| Some(if c.axon.replay_store_local_fallback { "local" } else { "refuse" }.into()),
        unset: "",
        apply: |c, v| {
            c.axon.replay_store_local_fallback = match v.trim() {
                "refuse" => false,
                "local" => true,
                other => return Err(format!("`{other}` is not refuse or local")),
            };
            Ok(())
        },
    },
    Setting {
        flag: "--axon.replay_store_cluster",
        example: "true",
        var: "BT_AXON_REPLAY_STORE_CLUSTER",
        value: Value::Bool,
        help: "the replay store's URL names one node of a Redis Cluster (database 0)",
        show: |c| Some(c.axon.replay_store_cluster.to_string()),
        unset: "",
        apply: |c, v| {
            c.axon.replay_store_cluster = on(v);
            Ok(())
        },
    },
    Setting {
        flag: "--axon.replay_store_sentinel",
        example: "10.0.0.5:26379",
        var: "BT_AXON_REPLAY_STORE_SENTINELS",
        value: Value::Repeated {
            name: "ADDRESS",
            clear: |c| c.axon.replay_store_sentinels.clear(),
        },
        help: "a Redis Sentinel that names the replay store's master, host[:port] (26379) or redis://[user:password@]host[:port]; the replay store's URL then names the master by its name: redis://[user][:password@]NAME[/db]",
        show: |c| Some(c.axon.replay_store_sentinels.join(",")),
        unset: "none",
        apply: |c, v| {
            c.axon.replay_store_sentinels.push(v.trim().to_owned());
            Ok(())
        },
    },
    Setting {
        flag: "--axon.replay_store_ca",
        example: "/etc/axon/redis-ca.pem",
        var: "BT_AXON_REPLAY_STORE_CA",
        value: Value::One("PATH"),
        help: "a PEM file of the CA that signs the rediss:// server's certificate",
        show: |c| c.axon.replay_store_ca.clone(),
        unset: "the system's CAs",
        apply: |c, v| {
            c.axon.replay_store_ca = Some(v.to_owned());
            Ok(())
        },
    },
    Setting {
        flag: "--axon.replay_store_cert",
        example: "/etc/axon/redis-client.pem",
        var: "BT_AXON_REPLAY_STORE_CERT",
        value: Value::One("PATH"),
        help: "a PEM client certificate for a rediss:// server that asks for one (with --axon.replay_store_key)",
        show: |c| c.axon.replay_store_cert.clone(),
        unset: "none",
        apply: |c, v| {
            c.axon.replay_store_cert = Some(v.to_owned());
            Ok(())
        },
    },
    Setting {
        flag: "--axon.replay_store_key",
        example: "/etc/axon/redis-client.key",
        var: "BT_AXON_REPLAY_STORE_KEY",
        value: Value::One("PATH"),
        help: "the PEM private key of --axon.replay_store_cert",
        show: |c| c.axon.replay_store_key.clone(),
        unset: "none",
        apply: |c, v| {
            c.axon.replay_store_key = Some(v.to_owned());
            Ok(())
        },
    },
    Setting {
        flag: "--axon.reuse_port",
        example: "true",
        var: "BT_AXON_REUSE_PORT",
        value: Value::Bool,
        help: "share the port with other processes on this host (SO_REUSEPORT)",
        show: |c| Some(c.axon.reuse_port.to_string()),
        unset: "",
        apply: |c, v| {
            c.axon.reuse_port = on(v);
            Ok(())
        },
    },
    Setting {
        flag: "--axon.trusted_proxy",
        example: "10.0.0.0/8",
        var: "BT_AXON_TRUSTED_PROXIES",
        value: Value::Repeated {
            name: "IP|NETWORK",
            clear: |c| c.axon.trusted_proxies.clear(),
        },
        help: "a reverse proxy in front of the axon, whose PROXY header and X-Forwarded-For are believed",
        show: |c| Some(c.axon.trusted_proxies.join(",")),
        unset: "none",
        apply: |c, v| {
            c.axon.trusted_proxies.push(v.trim().to_owned());
            Ok(())
        },
    },
    Setting {
        flag: "--axon.tls_cert",
        example: "/etc/axon/cert.pem",
        var: "BT_AXON_TLS_CERT",
        value: Value::One("PATH"),
        help: "serve TLS beside plain HTTP on the axon's port with this PEM certificate chain",
        show: |c| c.axon.tls_cert.clone(),
        unset: "none",
        apply: |c, v| {
            c.axon.tls_cert = Some(v.to_owned());
            Ok(())
        },
    },
    Setting {
        flag: "--axon.tls_key",
        example: "/etc/axon/key.pem",
        var: "BT_AXON_TLS_KEY",
        value: Value::One("PATH"),
        help: "the PEM private key of --axon.tls_cert (ECDSA P-256, ed25519 or RSA)",
        show: |c| c.axon.tls_key.clone(),
        unset: "none",
        apply: |c, v| {
            c.axon.tls_key = Some(v.to_owned());
            Ok(())
        },
    },
    Setting {
        flag: "--axon.tls_generate",
        example: "true",
        var: "BT_AXON_TLS_GENERATE",
        value: Value::Bool,
        help: "serve TLS with an ed25519 key and self-signed certificate made on first start",
        show: |c| Some(c.axon.tls_generate.to_string()),
        unset: "",
        apply: |c, v| {
            c.axon.tls_generate = on(v);
            Ok(())
        },
    },
    Setting {
        flag: "--axon.tls_dir",
        example: "/var/lib/axon/tls",
        var: "BT_AXON_TLS_DIR",
        value: Value::One("DIR"),
        help: "where --axon.tls_generate keeps its key and certificate",
        show: |c| c.axon.tls_dir.clone(),
        unset: "~/.bittensor/tls/<hotkey>",
        apply: |c, v| {
            c.axon.tls_dir = Some(v.to_owned());
            Ok(())
        },
    },
    Setting {
        flag: "--auth.default_crypto",
        example: "ed25519",
        var: "BT_AUTH_DEFAULT_CRYPTO",
        value: Value::One("sr25519|ed25519"),
        help: "the crypto type signed-HTTP senders sign with, unless pinned (never taken from the request)",
        show: |c| Some(c.auth.default.to_string()),
        unset: "",
        apply: |c, v| {
            c.auth.default = v.parse().map_err(|e: crate::keys::UnknownCrypto| e.to_string())?;
            Ok(())
        },
    },
    Setting {
        flag: "--auth.crypto",
        example: "5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu=ed25519",
        var: "BT_AUTH_CRYPTO",
        value: Value::Repeated {
            name: "SS58=sr25519|ed25519",
            clear: |c| c.auth.clear(),
        },
        help: "pins one sender's crypto type (signed HTTP)",
        show: |c| {
            let pins: Vec<String> = c.auth.iter().map(|(a, t)| format!("{a}={t}")).collect();
            Some(pins.join(","))
        },
        unset: "none",
        apply: |c, v| c.auth.parse_pin(v).map_err(|e| e.to_string()),
    },
    Setting {
        flag: "--wallet.name",
        example: "miner",
        var: "BT_WALLET_NAME",
        value: Value::One("NAME"),
        help: "the wallet (coldkey) name",
        show: |c| Some(c.wallet.name.clone()),
        unset: "",
        apply: |c, v| {
            c.wallet.name = v.to_owned();
            Ok(())
        },
    },
    Setting {
        flag: "--wallet.hotkey",
        example: "hk1",
        var: "BT_WALLET_HOTKEY",
        value: Value::One("NAME"),
        help: "the hotkey name",
        show: |c| Some(c.wallet.hotkey.clone()),
        unset: "",
        apply: |c, v| {
            c.wallet.hotkey = v.to_owned();
            Ok(())
        },
    },
    Setting {
        flag: "--wallet.path",
        example: "/srv/wallets",
        var: "BT_WALLET_PATH",
        value: Value::One("DIR"),
        help: "where wallets are",
        show: |c| Some(c.wallet.path.clone()),
        unset: "",
        apply: |c, v| {
            c.wallet.path = v.to_owned();
            Ok(())
        },
    },
    Setting {
        flag: "--logging.debug",
        example: "true",
        var: "BT_LOGGING_DEBUG",
        value: Value::PythonSwitch,
        help: "log every request in and out",
        show: |c| Some(c.logging.debug.to_string()),
        unset: "",
        apply: |c, v| {
            c.logging.debug = on(v);
            Ok(())
        },
    },
    Setting {
        flag: "--logging.trace",
        example: "true",
        var: "BT_LOGGING_TRACE",
        value: Value::PythonSwitch,
        help: "log everything",
        show: |c| Some(c.logging.trace.to_string()),
        unset: "",
        apply: |c, v| {
            c.logging.trace = on(v);
            Ok(())
        },
    },
    Setting {
        flag: "--logging.info",
        example: "true",
        var: "BT_LOGGING_INFO",
        value: Value::PythonSwitch,
        help: "log the banner, refusals and failures (what is logged without a level flag)",
        show: |c| Some(c.logging.info.to_string()),
        unset: "",
        apply: |c, v| {
            c.logging.info = on(v);
            Ok(())
        },
    },
    Setting {
        flag: "--logging.record_log",
        example: "true",
        var: "BT_LOGGING_RECORD_LOG",
        value: Value::PythonSwitch,
        help: "also write bittensor.log under --logging.logging_dir",
        show: |c| Some(c.logging.record_log.to_string()),
        unset: "",
        apply: |c, v| {
            c.logging.record_log = on(v);
            Ok(())
        },
    },
    Setting {
        flag: "--logging.logging_dir",
        example: "/var/log/miner",
        var: "BT_LOGGING_LOGGING_DIR",
        value: Value::One("DIR"),
        help: "where bittensor.log goes",
        show: |c| Some(c.logging.logging_dir.clone()),
        unset: "",
        apply: |c, v| {
            c.logging.logging_dir = v.to_owned();
            Ok(())
        },
    },
    Setting {
        flag: "--logging.enable_third_party_loggers",
        example: "true",
        var: "BT_LOGGING_ENABLE_THIRD_PARTY_LOGGERS",
        value: Value::PythonSwitch,
        help: "accepted as in Python, without effect: other crates' tracing lines follow the level anyway",
        show: |c| Some(c.logging.enable_third_party_loggers.to_string()),
        unset: "",
        apply: |c, v| {
            c.logging.enable_third_party_loggers = on(v);
            Ok(())
        },
    },
    Setting {
        flag: "--subtensor.network",
        example: "test",
        var: "BT_SUBTENSOR_NETWORK",
        value: Value::One("NAME"),
        help: "finney, test, archive, local, latent-lite, or an address",
        show: |c| c.subtensor.network.clone(),
        unset: "finney",
        apply: |c, v| {
            c.subtensor.network = Some(v.to_owned());
            Ok(())
        },
    },
    Setting {
        flag: "--subtensor.chain_endpoint",
        example: "ws://10.0.0.2:9944",
        var: "BT_SUBTENSOR_CHAIN_ENDPOINT",
        value: Value::One("URL"),
        help: "the node to dial (ws:// or wss://); an explicit network wins",
        show: |c| c.subtensor.chain_endpoint.clone(),
        unset: "the network's",
        apply: |c, v| {
            c.subtensor.chain_endpoint = Some(v.to_owned());
            Ok(())
        },
    },
    Setting {
        flag: "--netuid",
        example: "7",
        var: "",
        value: Value::One("N"),
        help: "the subnet to publish on and read the metagraph of",
        show: |c| c.netuid.map(|n| n.to_string()),
        unset: "none",
        apply: |c, v| {
            let n = v.trim().parse::<u16>();
            let n = n.map_err(|_| format!("`{v}` is not a subnet uid (0-65535)"))?;
            c.netuid = Some(n);
            Ok(())
        },
    },
];

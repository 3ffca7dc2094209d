//! `--subtensor.*`: which chain to talk to, resolved as bittensor 10.5.0 resolves it.

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
    pub(super) local: Option<String>,
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

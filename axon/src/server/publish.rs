//! [`Axon::serve`]: publishing where the axon listens on chain, as Python's
//! `axon.serve(netuid, subtensor, certificate)` does (feature `chain`).

use super::Axon;
use crate::chain::{ChainError, Included, Subtensor, Value};
use crate::AxonInfo;
use std::fmt;
use std::net::IpAddr;

/// What [`Axon::serve`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Served {
    /// The chain already held this axon info (and certificate): nothing was submitted.
    Unchanged,
    /// The transaction is in a block.
    Published(Included),
}

/// Why [`Axon::serve`] could not publish, and what to do.
#[derive(Clone, Debug)]
pub enum ServeError {
    /// The axon has no hotkey, or no external IP yet.
    NotReady(&'static str),
    /// The subnet does not exist.
    NoSubnet {
        /// The subnet asked for.
        netuid: u16,
    },
    /// The hotkey is not registered on the subnet.
    NotRegistered {
        /// The hotkey's SS58 address.
        hotkey: String,
        /// The subnet.
        netuid: u16,
    },
    /// The chain's serving rate limit: this hotkey served too recently.
    RateLimited {
        /// The subnet.
        netuid: u16,
        /// Its `ServingRateLimit` in blocks, when readable.
        blocks: Option<u128>,
    },
    /// The chain refuses the address (loopback, private, unspecified, port 0).
    BadAddress {
        /// `ip:port` as published.
        address: String,
        /// The runtime's error.
        error: String,
    },
    /// Any other chain failure.
    Chain(ChainError),
    /// The TLS settings cannot be served (served before `start`, which would refuse them
    /// too): publishing the axon without its key would leave callers nothing to pin.
    Tls(crate::Problem),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::NotReady(what) => write!(f, "cannot serve the axon on chain: {what}"),
            ServeError::NoSubnet { netuid } => write!(
                f,
                "subnet {netuid} does not exist on this chain; check --netuid and --subtensor.network"
            ),
            ServeError::NotRegistered { hotkey, netuid } => write!(
                f,
                "hotkey {hotkey} is not registered on subnet {netuid}; register it first: \
                 btcli subnets register --netuid {netuid} --wallet.name <coldkey> --wallet.hotkey <hotkey>"
            ),
            ServeError::RateLimited { netuid, blocks } => {
                write!(f, "subnet {netuid}'s serving rate limit: this hotkey served too recently")?;
                if let Some(blocks) = blocks {
                    write!(f, " (one serve per {blocks} blocks)")?;
                }
                write!(f, "; retry later, or serve unchanged info, which submits nothing")
            }
            ServeError::BadAddress { address, error } => write!(
                f,
                "the chain refuses the address {address} ({error}); publish a public address: \
                 set --axon.external_ip and --axon.external_port"
            ),
            ServeError::Chain(e) => write!(f, "cannot serve the axon on chain: {e}"),
            ServeError::Tls(problem) => write!(
                f,
                "cannot serve the axon on chain: its TLS cannot be served ({problem}); fix the --axon.tls_* settings"
            ),
        }
    }
}

/// A chain failure is the source of [`ServeError::Chain`], the TLS problem of
/// [`ServeError::Tls`].
impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::Chain(e) => Some(e),
            ServeError::Tls(problem) => Some(problem),
            _ => None,
        }
    }
}

impl From<ChainError> for ServeError {
    fn from(e: ChainError) -> Self {
        ServeError::Chain(e)
    }
}

/// Python's `net.ip_to_int`: an IPv4 address as its 32-bit number, an IPv6 one as 128.
fn ip_number(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4).into(),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn args(netuid: u16, info: &AxonInfo, ip: IpAddr) -> Vec<(&'static str, Value)> {
    vec![
        ("netuid", Value::U(netuid.into())),
        ("version", Value::U(info.version as u128)),
        ("ip", Value::U(ip_number(ip))),
        ("port", Value::U(info.port.into())),
        ("ip_type", Value::U(info.ip_type.into())),
        ("protocol", Value::U(info.protocol.into())),
        ("placeholder1", Value::U(info.placeholder1.into())),
        ("placeholder2", Value::U(info.placeholder2.into())),
    ]
}

/// True when the chain's `Axons` record (and certificate) equal what would be published.
fn unchanged(
    stored: Option<&Value>,
    published: &[(&str, Value)],
    cert: Option<(&[u8], Option<Value>)>,
) -> bool {
    let Some(stored) = stored else { return false };
    let same = published
        .iter()
        .filter(|(name, _)| *name != "netuid")
        .all(|(name, value)| stored.field(name).and_then(Value::as_u128) == value.as_u128());
    let same_cert = match cert {
        None => true,
        Some((given, stored)) => stored.is_some_and(|s| {
            let algorithm = s.field("algorithm").and_then(Value::as_u128);
            let key = s
                .field("public_key")
                .and_then(Value::as_bytes)
                .unwrap_or_default();
            algorithm == given.first().map(|&a| a.into()) && key == &given[1.min(given.len())..]
        }),
    };
    same && same_cert
}

impl Axon {
    /// Publishes this axon's [`info`](Axon::info) (external IP and port, protocol 4, the
    /// protocol version) on subnet `netuid`, signed by the hotkey, following Python's
    /// `axon.serve(netuid, subtensor)` as its source reads: nothing is submitted when the chain already holds the
    /// same info; otherwise it waits until the transaction is in a block. The errors name
    /// the cause and the fix (hotkey not registered, with the btcli command; the serving
    /// rate limit; an address the chain refuses).
    ///
    /// Callable before or after [`start`](Axon::start); before, the external IP must be
    /// configured (`--axon.external_ip`), as `start` is what discovers it.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use axon::{chain::Subtensor, keys::Keypair, Axon};
    /// let subtensor = Subtensor::connect("ws://127.0.0.1:9944").await?;
    /// let mut axon = Axon::from_registry().hotkey(Keypair::from_uri("//Alice")?).external_ip("203.0.113.7");
    /// axon.start().await?;
    /// axon.serve(1, &subtensor).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// With TLS on (feature `tls`; given with [`tls`](Axon::tls), or from `--axon.tls_*`
    /// once started), its public key is published too (`serve_axon_tls`), so that callers
    /// can pin it. A key the chain cannot hold (RSA, a curve other than P-256) is not: a
    /// warning says so and the axon is published without it.
    pub async fn serve(&self, netuid: u16, subtensor: &Subtensor) -> Result<Served, ServeError> {
        match self.tls_published()? {
            Some(Ok(certificate)) => self.publish(netuid, subtensor, Some(&certificate)).await,
            Some(Err(why)) => {
                tracing::warn!(
                    "the TLS key is {why}: the chain cannot hold it, so the axon is published without it and callers cannot pin it (use an ed25519 or ECDSA P-256 key)"
                );
                self.publish(netuid, subtensor, None).await
            }
            None => self.publish(netuid, subtensor, None).await,
        }
    }

    /// The TLS key to publish: the started axon's, else the one `start` will serve (given
    /// in code, or read from the `--axon.tls_*` files: an axon served before it starts, as
    /// bittensor's miners do, publishes the key it is about to serve).
    fn tls_published(&self) -> Result<Option<Result<Vec<u8>, &'static str>>, ServeError> {
        if let Some(serving) = &self.serving {
            return Ok(serving.tls());
        }
        let hotkey = self.serving_hotkey().ok();
        let planned = self
            .serving_tls(&self.settings(), hotkey.as_ref())
            .map_err(ServeError::Tls)?;
        Ok(planned.map(|tls| tls.published))
    }

    /// [`serve`](Axon::serve) with a TLS certificate (`serve_axon_tls`): the first byte is
    /// the algorithm, the rest the public key, as Python's `Certificate`. The certificate is
    /// compared too: unchanged info with a new certificate is published.
    pub async fn serve_with_certificate(
        &self,
        netuid: u16,
        subtensor: &Subtensor,
        certificate: &[u8],
    ) -> Result<Served, ServeError> {
        self.publish(netuid, subtensor, Some(certificate)).await
    }

    async fn publish(
        &self,
        netuid: u16,
        subtensor: &Subtensor,
        certificate: Option<&[u8]>,
    ) -> Result<Served, ServeError> {
        let hotkey = self
            .hotkey
            .as_ref()
            .ok_or(ServeError::NotReady("the axon has no hotkey"))?;
        let info = self.info().ok_or(ServeError::NotReady(
            "the external IP is not known yet: set --axon.external_ip or start the axon first",
        ))?;
        let ip: IpAddr = info
            .ip
            .parse()
            .map_err(|_| ServeError::NotReady("the external IP does not parse"))?;
        let subnet = Value::U(netuid.into());
        let me = Value::Bytes(hotkey.public().to_vec());
        let sm = "SubtensorModule";
        if subtensor
            .storage(sm, "NetworksAdded", std::slice::from_ref(&subnet))
            .await?
            != Some(Value::Bool(true))
        {
            return Err(ServeError::NoSubnet { netuid });
        }
        let not_registered = || ServeError::NotRegistered {
            hotkey: hotkey.ss58().to_owned(),
            netuid,
        };
        let keys = [subnet.clone(), me];
        if subtensor.storage(sm, "Uids", &keys).await?.is_none() {
            return Err(not_registered());
        }
        let mut published = args(netuid, &info, ip);
        let stored = subtensor.storage(sm, "Axons", &keys).await?;
        let stored_cert = match certificate {
            Some(_) => subtensor.storage(sm, "NeuronCertificates", &keys).await?,
            None => None,
        };
        if unchanged(
            stored.as_ref(),
            &published,
            certificate.map(|c| (c, stored_cert)),
        ) {
            tracing::info!(netuid, axon = %info, "the chain already holds this axon: nothing submitted");
            return Ok(Served::Unchanged);
        }
        let call = match certificate {
            Some(cert) => {
                published.push(("certificate", Value::Bytes(cert.to_vec())));
                "serve_axon_tls"
            }
            None => "serve_axon",
        };
        let data = subtensor.call_data(sm, call, &published).await?;
        match subtensor.submit(&data, hotkey).await {
            Ok(included) => {
                tracing::info!(netuid, axon = %info, block = %included.block, "served the axon on chain");
                Ok(Served::Published(included))
            }
            Err(e) => Err(self.explain(e, netuid, &info, subtensor).await),
        }
    }

    async fn explain(
        &self,
        e: ChainError,
        netuid: u16,
        info: &AxonInfo,
        subtensor: &Subtensor,
    ) -> ServeError {
        let name = e
            .dispatch_error()
            .map(|n| n.rsplit("::").next().unwrap_or(n).to_owned());
        match name.as_deref() {
            Some(
                "HotKeyNotRegisteredInNetwork" | "HotKeyNotRegisteredInSubNet" | "NotRegistered",
            ) => ServeError::NotRegistered {
                hotkey: info.hotkey.clone(),
                netuid,
            },
            Some("ServingRateLimitExceeded") => {
                let limit = subtensor
                    .storage(
                        "SubtensorModule",
                        "ServingRateLimit",
                        &[Value::U(netuid.into())],
                    )
                    .await
                    .ok()
                    .flatten()
                    .and_then(|v| v.as_u128());
                ServeError::RateLimited {
                    netuid,
                    blocks: limit,
                }
            }
            Some(error @ ("InvalidIpAddress" | "InvalidIpType" | "InvalidPort")) => {
                ServeError::BadAddress {
                    address: format!("{}:{}", info.ip, info.port),
                    error: error.to_owned(),
                }
            }
            _ => ServeError::Chain(e),
        }
    }
}

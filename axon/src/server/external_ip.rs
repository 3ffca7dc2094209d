//! Discovery of the address the network sees this machine at, over HTTPS only.
//!
//! The address is published on chain (`Axon::serve`), and validators send this miner's
//! traffic, and with it its score, wherever it points. So it is asked only of the HTTPS
//! services bittensor 10.5.0's `get_external_ip` asks (`https://checkip.amazonaws.com`,
//! `https://ipinfo.io`, `https://ident.me`, and the `X-Client-IP` header of
//! `https://www.wikipedia.org`), each certificate checked against the web's roots. Python's
//! plain-HTTP fallbacks (`curl ifconfig.me`, `myip.dnsomatic.com`) are left out on purpose:
//! anyone on the network path could answer them.
//!
//! Two services are asked at once. When two answers of one address family agree, that is the
//! address; when they disagree, discovery fails and lists every answer (an IPv6 answer does
//! not contradict an IPv4 one). Otherwise the other services are asked too, and the same
//! rule decides; an address only one service gave is used, and the log says which service
//! it was. `--axon.external_ip` is the operator's override: nothing is asked then.

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// How long each service gets (to connect, shake hands and answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The most of an answer's body read.
const MAX_BODY: usize = 16 * 1024;

/// Where a service puts the address.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    /// The body is the address (`checkip.amazonaws.com`, `ident.me`).
    Text,
    /// The body is JSON with the address in `ip` (`ipinfo.io`).
    Json,
    /// A response header holds it (`X-Client-IP` at `www.wikipedia.org`).
    Header(String),
}

/// One "what is my IP" service, asked with `GET` over HTTPS.
///
/// ```
/// use axon::external_ip::Service;
///
/// let aws = Service::text("https://checkip.amazonaws.com").unwrap();
/// assert_eq!(aws.name(), "checkip.amazonaws.com");
/// let err = Service::text("http://ifconfig.me/ip").unwrap_err();
/// assert!(err.contains("HTTPS only"), "{err}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    name: String,
    host: String,
    port: u16,
    path: String,
    answer: Answer,
}

impl Service {
    /// A service whose body is the address, as `https://checkip.amazonaws.com`.
    pub fn text(url: &str) -> Result<Service, String> {
        Service::parse(url, Answer::Text)
    }

    /// A service whose body is JSON holding the address in `ip`, as `https://ipinfo.io`.
    pub fn json(url: &str) -> Result<Service, String> {
        Service::parse(url, Answer::Json)
    }

    /// A service that puts the address in response header `header`, as
    /// `https://www.wikipedia.org` does in `X-Client-IP`.
    pub fn header(url: &str, header: &str) -> Result<Service, String> {
        Service::parse(url, Answer::Header(header.to_ascii_lowercase()))
    }

    /// `host` or `host:port`: how the logs and errors name it.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn parse(url: &str, answer: Answer) -> Result<Service, String> {
        let rest = url.strip_prefix("https://").ok_or_else(|| {
            format!("`{url}`: discovery asks over HTTPS only (an `https://` URL)")
        })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse()
                    .map_err(|_| format!("`{url}`: `{port}` is not a port"))?,
            ),
            None => (authority, 443),
        };
        if host.is_empty() {
            return Err(format!("`{url}`: no host"));
        }
        Ok(Service {
            name: authority.to_owned(),
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            answer,
        })
    }
}

/// The services bittensor 10.5.0 asks over HTTPS, in its order.
///
/// ```
/// let names: Vec<String> = axon::external_ip::bittensor_services()
///     .iter()
///     .map(|s| s.name().to_owned())
///     .collect();
/// assert_eq!(names, ["checkip.amazonaws.com", "ipinfo.io", "ident.me", "www.wikipedia.org"]);
/// ```
pub fn bittensor_services() -> Vec<Service> {
    let known = [
        Service::text("https://checkip.amazonaws.com/"),
        Service::json("https://ipinfo.io/"),
        Service::text("https://ident.me/"),
        Service::header("https://www.wikipedia.org/", "X-Client-IP"),
    ];
    known.into_iter().flatten().collect()
}

/// How to discover the external address: which services, which certificate authorities,
/// how long each service gets. [`Discovery::default`] is bittensor's services and the web's
/// roots (webpki-roots).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use axon::external_ip::{Discovery, Service};
/// use std::time::Duration;
///
/// // Nothing listens on port 1: the error says so, per service.
/// let discovery = Discovery::default()
///     .services(vec![Service::text("https://127.0.0.1:1/").unwrap()])
///     .timeout(Duration::from_secs(1));
/// let err = discovery.discover().await.unwrap_err();
/// assert!(err.to_string().contains("127.0.0.1:1: "), "{err}");
/// # }
/// ```
#[derive(Clone)]
pub struct Discovery {
    services: Vec<Service>,
    roots: Arc<RootCertStore>,
    timeout: Duration,
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery {
            services: bittensor_services(),
            roots: Arc::new(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for Discovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Discovery")
            .field("services", &self.services)
            .field("roots", &self.roots.len())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Discovery {
    /// Asks `services` instead of bittensor's.
    pub fn services(mut self, services: Vec<Service>) -> Self {
        self.services = services;
        self
    }

    /// Trusts the certificate authorities in `pem` (PEM certificates) instead of the web's
    /// roots: for services of your own behind a private CA.
    pub fn trust_pem(mut self, pem: &[u8]) -> Result<Self, String> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("not a PEM certificate: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("not a CA certificate: {e}"))?;
        }
        if roots.is_empty() {
            return Err("no certificate in the PEM given".into());
        }
        self.roots = Arc::new(roots);
        Ok(self)
    }

    /// How long each service gets (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Asks the services (two at once, then the rest if need be) and decides as the module
    /// says.
    pub async fn discover(&self) -> Result<Discovered, DiscoveryError> {
        let tls = Arc::new(
            ClientConfig::builder_with_provider(Arc::new(
                tokio_rustls::rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| DiscoveryError::none(vec![("TLS".into(), Err(e.to_string()))]))?
            .with_root_certificates(self.roots.clone())
            .with_no_client_auth(),
        );
        let (first, rest) = self.services.split_at(self.services.len().min(2));
        let mut answers = self.ask_all(first, &tls).await;
        if decide(&answers).is_none_or(|d| d.agreeing.len() < 2) {
            answers.extend(self.ask_all(rest, &tls).await);
        }
        match decide(&answers) {
            Some(Decision { ip, agreeing, .. }) if !disagree(&answers) => Ok(Discovered {
                ip,
                agreeing,
                answers,
            }),
            _ if disagree(&answers) => Err(DiscoveryError {
                answers,
                disagree: true,
            }),
            _ => Err(DiscoveryError::none(answers)),
        }
    }

    async fn ask_all(&self, services: &[Service], tls: &Arc<ClientConfig>) -> Vec<Asked> {
        let asks = services.iter().map(|service| async move {
            let answer = match tokio::time::timeout(self.timeout, ask(service, tls)).await {
                Ok(answer) => answer,
                Err(_) => Err(format!("no answer within {:?}", self.timeout)),
            };
            (service.name.clone(), answer)
        });
        futures_util::future::join_all(asks).await
    }
}

/// One service's name and answer.
type Asked = (String, Result<IpAddr, String>);

struct Decision {
    ip: IpAddr,
    agreeing: Vec<String>,
}

/// The address to use: of the family with the most answers (IPv4 on a tie), the first
/// answer; `None` without any.
fn decide(answers: &[Asked]) -> Option<Decision> {
    let family = |v4: bool| -> Vec<(&String, IpAddr)> {
        answers
            .iter()
            .filter_map(|(name, a)| a.as_ref().ok().map(|ip| (name, *ip)))
            .filter(|(_, ip)| ip.is_ipv4() == v4)
            .collect()
    };
    let (v4, v6) = (family(true), family(false));
    let chosen = if v4.len() >= v6.len() { v4 } else { v6 };
    let ip = chosen.first()?.1;
    Some(Decision {
        ip,
        agreeing: chosen
            .iter()
            .filter(|(_, other)| *other == ip)
            .map(|(name, _)| (*name).clone())
            .collect(),
    })
}

/// Whether two answers of one family differ.
fn disagree(answers: &[Asked]) -> bool {
    let ips: Vec<IpAddr> = answers.iter().filter_map(|(_, a)| a.clone().ok()).collect();
    ips.iter()
        .any(|a| ips.iter().any(|b| a.is_ipv4() == b.is_ipv4() && a != b))
}

/// The address discovered, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovered {
    /// The address.
    pub ip: IpAddr,
    /// The services that gave it.
    pub agreeing: Vec<String>,
    /// What every service asked answered.
    pub answers: Vec<(String, Result<IpAddr, String>)>,
}

impl fmt::Display for Discovered {
    /// How the startup banner says it: `checkip.amazonaws.com and ipinfo.io agree`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.agreeing.as_slice() {
            [one] => write!(f, "{one} alone (no other service confirmed it)"),
            many => write!(f, "{} agree", many.join(" and ")),
        }
    }
}

/// Why no address was discovered: no service answered with one, or two disagreed. Lists
/// every answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveryError {
    answers: Vec<Asked>,
    disagree: bool,
}

impl DiscoveryError {
    fn none(answers: Vec<Asked>) -> Self {
        DiscoveryError {
            answers,
            disagree: false,
        }
    }

    /// Whether two services gave different addresses of one family.
    pub fn disagree(&self) -> bool {
        self.disagree
    }

    /// What each service answered.
    pub fn answers(&self) -> &[(String, Result<IpAddr, String>)] {
        &self.answers
    }
}

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.disagree, self.answers.is_empty()) {
            (true, _) => write!(f, "the discovery services disagree: ")?,
            (false, true) => return write!(f, "no discovery service configured"),
            (false, false) => write!(f, "no discovery service gave an address: ")?,
        }
        for (i, (name, answer)) in self.answers.iter().enumerate() {
            let sep = if i == 0 { "" } else { "; " };
            match answer {
                Ok(ip) => write!(f, "{sep}{name}: {ip}")?,
                Err(e) => write!(f, "{sep}{name}: {e}")?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for DiscoveryError {}

/// One `GET` over HTTPS (HTTP/1.1 by hyper's client); the address from where `service`
/// puts it.
async fn ask(service: &Service, tls: &Arc<ClientConfig>) -> Result<IpAddr, String> {
    let name = ServerName::try_from(service.host.clone())
        .map_err(|e| format!("`{}` is not a host name: {e}", service.host))?;
    let tcp = TcpStream::connect((service.host.as_str(), service.port))
        .await
        .map_err(|e| e.to_string())?;
    let stream = tokio_rustls::TlsConnector::from(tls.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let request = http::Request::get(service.path.as_str())
        .header(http::header::HOST, &service.name)
        .header(http::header::USER_AGENT, "axon")
        .header(http::header::ACCEPT, "*/*")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let answered = sender.send_request(request).await;
    let response = answered.map_err(|e| e.to_string());
    let found = match response {
        Ok(response) => read(service, response).await,
        Err(e) => Err(e),
    };
    driver.abort();
    found
}

async fn read(
    service: &Service,
    response: http::Response<hyper::body::Incoming>,
) -> Result<IpAddr, String> {
    if response.status() != http::StatusCode::OK {
        return Err(format!("answered {}", response.status()));
    }
    let text = match &service.answer {
        Answer::Header(header) => response
            .headers()
            .get(header.as_str())
            .ok_or_else(|| format!("answered without `{header}`"))?
            .to_str()
            .map_err(|_| format!("`{header}` is not text"))?
            .to_owned(),
        Answer::Text | Answer::Json => {
            let body = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| format!("the answer: {e}"))?
                .to_bytes();
            let body = String::from_utf8_lossy(&body).into_owned();
            match service.answer {
                Answer::Json => serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("ip")?.as_str().map(str::to_owned))
                    .ok_or_else(|| format!("answered `{}`, not JSON with `ip`", clip(&body)))?,
                _ => body,
            }
        }
    };
    let text = text.trim();
    text.parse()
        .map_err(|_| format!("answered `{}`, not an IP address", clip(text)))
}

fn clip(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests;

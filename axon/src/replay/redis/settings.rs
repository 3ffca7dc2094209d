//! The store's settings read and checked before anything is dialled: the URL, the
//! sentinels, the TLS files; and the URL as logs show it.

use super::connect::{shown_addr, Node};
use crate::replay::{StoreError, StoreErrorKind};
use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ClientConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to write in a URL, for the settings errors.
pub(super) const URL_FORM: &str = "write redis://[user][:password@]host[:port][/db], or rediss://.. for TLS, the user and password percent-encoded";

/// A sentinel's port when its address names none.
const SENTINEL_PORT: u16 = 26379;

/// The URL read: `redis://` or `rediss://`, no fragment (`#insecure`).
pub(super) fn url(url: &str) -> Result<ConnectionInfo, StoreError> {
    let settings = |m: String| StoreError::new(StoreErrorKind::Settings, m);
    let scheme = url.split_once("://").map(|(s, _)| s);
    if !matches!(scheme, Some("redis" | "rediss")) {
        return Err(settings(format!(
            "not a redis:// or rediss:// URL: {URL_FORM}"
        )));
    }
    if url.contains('#') {
        return Err(settings(
            "a URL fragment (#insecure turns off the server's certificate check): trust a private CA with --axon.replay_store_ca instead".into(),
        ));
    }
    url.into_connection_info()
        .map_err(|e| StoreError::caused(StoreErrorKind::Settings, format!("{e}: {URL_FORM}"), e))
}

/// One sentinel of `--axon.replay_store_sentinel`, read.
pub(super) struct Sentinel {
    pub(super) addr: ConnectionAddr,
    user: Option<String>,
    password: Option<String>,
}

impl Sentinel {
    pub(super) fn tls(&self) -> bool {
        matches!(self.addr, ConnectionAddr::TcpTls { .. })
    }

    /// The sentinel as a node to dial, with the TLS settings for `rediss://`.
    pub(super) fn node(&self, tls: Option<Arc<ClientConfig>>) -> Node {
        let mut login = RedisConnectionInfo::default();
        if let Some(user) = &self.user {
            login = login.set_username(user);
        }
        if let Some(password) = &self.password {
            login = login.set_password(password);
        }
        Node {
            addr: self.addr.clone(),
            login,
            tls,
        }
    }
}

/// The sentinels named: `host[:port]` takes the master URL's scheme and port 26379;
/// a URL says its own. One scheme, user and password for all.
pub(super) fn sentinels(entries: &[String], master_tls: bool) -> Result<Vec<Sentinel>, StoreError> {
    let mut read: Vec<Sentinel> = Vec::new();
    for entry in entries.iter().map(|e| e.trim()) {
        let settings = |what: String| {
            StoreError::new(
                StoreErrorKind::Settings,
                format!("--axon.replay_store_sentinel {entry}: {what}"),
            )
        };
        let url = match entry.contains("://") {
            true => entry.to_owned(),
            false if master_tls => format!("rediss://{entry}"),
            false => format!("redis://{entry}"),
        };
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) || url.contains('#') {
            return Err(settings(
                "write host[:port], or redis://[user:password@]host[:port] (rediss:// for TLS)"
                    .into(),
            ));
        }
        let info = url.as_str().into_connection_info().map_err(|e| {
            let detail = format!(
                "--axon.replay_store_sentinel {entry}: {e}: write host[:port], or redis://[user:password@]host[:port]"
            );
            StoreError::caused(StoreErrorKind::Settings, detail, e)
        })?;
        // The authority's end: `host:port`, `[v6]:port`, or a host alone.
        let authority = url.split("://").nth(1).unwrap_or_default();
        let authority = authority.split('/').next().unwrap_or_default();
        let authority = authority.rsplit('@').next().unwrap_or_default();
        let port_named = authority
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.ends_with(':') && port.parse::<u16>().is_ok());
        let mut addr = info.addr().clone();
        if !port_named {
            match &mut addr {
                ConnectionAddr::Tcp(_, port) | ConnectionAddr::TcpTls { port, .. } => {
                    *port = SENTINEL_PORT
                }
                _ => {}
            }
        }
        let redis = info.redis_settings();
        let sentinel = Sentinel {
            addr,
            user: redis.username().map(str::to_owned),
            password: redis.password().map(str::to_owned),
        };
        if let Some(first) = read.first() {
            if (first.tls(), &first.user, &first.password)
                != (sentinel.tls(), &sentinel.user, &sentinel.password)
            {
                return Err(settings(
                    "every sentinel is asked over one scheme with one user and password: write them the same for each".into(),
                ));
            }
        }
        read.push(sentinel);
    }
    Ok(read)
}

/// The URL as logs and `/metrics` show it: the password masked.
pub(super) fn shown(info: &ConnectionInfo, cluster: bool, sentinels: &[Sentinel]) -> String {
    let scheme = match info.addr() {
        ConnectionAddr::TcpTls { .. } => "rediss",
        _ => "redis",
    };
    let redis = info.redis_settings();
    let user = redis.username().unwrap_or_default();
    let credentials = match (user, redis.password().is_some()) {
        ("", false) => String::new(),
        (user, true) => format!("{user}:***@"),
        (user, false) => format!("{user}@"),
    };
    let db = redis.db();
    match info.addr() {
        ConnectionAddr::Tcp(name, _) | ConnectionAddr::TcpTls { host: name, .. }
            if !sentinels.is_empty() =>
        {
            let named: Vec<String> = sentinels.iter().map(|s| shown_addr(&s.addr)).collect();
            let named = named.join(", ");
            format!("{scheme}://{credentials}{name}/{db} (the master of sentinels {named})")
        }
        addr => {
            let kind = if cluster { " (cluster)" } else { "" };
            format!("{scheme}://{credentials}{}/{db}{kind}", shown_addr(addr))
        }
    }
}

/// The TLS settings of `rediss://`: the server's certificate checked against the CA in
/// `ca`, or the system's CAs; the client certificate and key in `client_cert`, if any.
/// Each file is read and checked now.
pub(super) fn tls(
    ca: Option<&Path>,
    client_cert: Option<&(PathBuf, PathBuf)>,
) -> Result<Arc<ClientConfig>, StoreError> {
    let settings = |detail: String| StoreError::new(StoreErrorKind::Settings, detail);
    let read = |path: &Path, what: &str| {
        std::fs::read(path).map_err(|e| {
            let detail = format!("{what} {}: cannot read it", path.display());
            StoreError::caused(StoreErrorKind::Settings, detail, e)
        })
    };
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            let pem = read(path, "--axon.replay_store_ca")?;
            for certificate in CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok) {
                // A certificate rustls cannot use as a root is skipped; none at all is refused.
                let _ = roots.add(certificate);
            }
            if roots.is_empty() {
                let path = path.display();
                return Err(settings(format!(
                    "--axon.replay_store_ca {path}: no PEM certificate in it"
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::caused(StoreErrorKind::Settings, e.to_string(), e))?
        .with_root_certificates(roots);
    let config = match client_cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let pem = read(cert, "--axon.replay_store_cert")?;
            let chain: Vec<_> = CertificateDer::pem_slice_iter(&pem)
                .filter_map(Result::ok)
                .collect();
            if chain.is_empty() {
                let cert = cert.display();
                return Err(settings(format!(
                    "--axon.replay_store_cert {cert}: no PEM certificate in it"
                )));
            }
            let pem = read(key, "--axon.replay_store_key")?;
            let Ok(private) = PrivateKeyDer::from_pem_slice(&pem) else {
                let key = key.display();
                return Err(settings(format!(
                    "--axon.replay_store_key {key}: no PEM private key in it"
                )));
            };
            builder.with_client_auth_cert(chain, private).map_err(|e| {
                let detail = format!(
                    "--axon.replay_store_cert {} and --axon.replay_store_key {}: {e}",
                    cert.display(),
                    key.display()
                );
                StoreError::caused(StoreErrorKind::Settings, detail, e)
            })?
        }
    };
    Ok(Arc::new(config))
}

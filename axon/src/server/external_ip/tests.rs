//! Discovery against HTTPS services on loopback, under a test certificate authority: services
//! that agree, disagree, lie, or are not who they claim.

use super::*;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::PrivateKeyDer;
use tokio_rustls::rustls::ServerConfig;

/// A certificate authority of the test's own.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A server configuration for `localhost`, its certificate signed by this authority.
    fn server(&self) -> Arc<ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        let key = PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let config = ServerConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
        Arc::new(config)
    }
}

/// A service on loopback answering every request with `response` (a whole HTTP response),
/// over TLS with `tls`, or in plain text without; returns its `https://localhost:PORT/` URL.
async fn serve(tls: Option<Arc<ServerConfig>>, response: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (tls, response) = (tls.clone(), response.clone());
            tokio::spawn(async move {
                match tls {
                    Some(tls) => {
                        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
                        if let Ok(stream) = acceptor.accept(tcp).await {
                            answer(stream, &response).await;
                        }
                    }
                    // Plain text: answers whatever arrives (a TLS ClientHello) at once.
                    None => {
                        let mut tcp = tcp;
                        let mut hello = [0u8; 1024];
                        let _ = tcp.read(&mut hello).await;
                        let _ = tcp.write_all(response.as_bytes()).await;
                    }
                }
            });
        }
    });
    format!("https://localhost:{port}/")
}

async fn answer<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut s: S, response: &str) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let _ = s.write_all(response.as_bytes()).await;
    let _ = s.shutdown().await;
}

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn discovery(ca: &Ca, services: Vec<Service>) -> Discovery {
    Discovery::default()
        .services(services)
        .trust_pem(ca.pem().as_bytes())
        .unwrap()
        .timeout(Duration::from_secs(10))
}

#[tokio::test]
async fn two_services_that_agree_give_the_address() {
    let ca = Ca::new("axon test CA");
    let text = serve(Some(ca.server()), ok("203.0.113.7\n")).await;
    let json = serve(
        Some(ca.server()),
        ok(r#"{"ip": "203.0.113.7", "city": "x"}"#),
    )
    .await;
    let found = discovery(
        &ca,
        vec![Service::text(&text).unwrap(), Service::json(&json).unwrap()],
    )
    .discover()
    .await
    .unwrap();
    assert_eq!(found.ip, "203.0.113.7".parse::<IpAddr>().unwrap());
    assert_eq!(found.agreeing.len(), 2);
    assert_eq!(
        found.to_string(),
        format!("{} and {} agree", found.agreeing[0], found.agreeing[1])
    );
}

#[tokio::test]
async fn two_services_that_disagree_stop_discovery_with_every_answer() {
    let ca = Ca::new("axon test CA");
    let a = serve(Some(ca.server()), ok("203.0.113.7")).await;
    let b = serve(Some(ca.server()), ok("198.51.100.9")).await;
    let c = serve(Some(ca.server()), ok("203.0.113.7")).await;
    let services = [&a, &b, &c].map(|u| Service::text(u).unwrap()).to_vec();
    let err = discovery(&ca, services.clone())
        .discover()
        .await
        .unwrap_err();
    assert!(err.disagree());
    assert_eq!(
        err.to_string(),
        format!(
            "the discovery services disagree: {}: 203.0.113.7; {}: 198.51.100.9; {}: 203.0.113.7",
            services[0].name(),
            services[1].name(),
            services[2].name()
        )
    );
}

#[tokio::test]
async fn an_ipv6_answer_does_not_contradict_an_ipv4_one() {
    let ca = Ca::new("axon test CA");
    let v4 = serve(Some(ca.server()), ok("203.0.113.7")).await;
    let v6 = serve(Some(ca.server()), ok("2001:db8::7")).await;
    let header = serve(
        Some(ca.server()),
        "HTTP/1.1 200 OK\r\nX-Client-IP: 203.0.113.7\r\nContent-Length: 0\r\n\r\n".into(),
    )
    .await;
    let services = vec![
        Service::text(&v4).unwrap(),
        Service::text(&v6).unwrap(),
        Service::header(&header, "X-Client-IP").unwrap(),
    ];
    let found = discovery(&ca, services.clone()).discover().await.unwrap();
    assert_eq!(found.ip, "203.0.113.7".parse::<IpAddr>().unwrap());
    assert_eq!(found.agreeing, [services[0].name(), services[2].name()]);
    assert_eq!(
        found.answers.len(),
        3,
        "the third was asked: {:?}",
        found.answers
    );
}

#[tokio::test]
async fn liars_and_impostors_are_refused_and_one_honest_service_is_used_alone() {
    let ca = Ca::new("axon test CA");
    let impostor = Ca::new("impostor CA"); // a certificate the client does not trust
    let html = serve(Some(ca.server()), ok("<html>203.0.113.7</html>")).await;
    let forged = serve(Some(impostor.server()), ok("198.51.100.66")).await;
    let plain = serve(None, ok("198.51.100.67")).await;
    let teapot = serve(
        Some(ca.server()),
        "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n".into(),
    )
    .await;
    let honest = serve(Some(ca.server()), ok("203.0.113.7")).await;
    let services: Vec<Service> = [&html, &forged, &plain, &teapot, &honest]
        .map(|u| Service::text(u).unwrap())
        .to_vec();
    let found = discovery(&ca, services.clone()).discover().await.unwrap();
    assert_eq!(found.ip, "203.0.113.7".parse::<IpAddr>().unwrap());
    assert_eq!(found.agreeing, [services[4].name()]);
    assert_eq!(
        found.to_string(),
        format!(
            "{} alone (no other service confirmed it)",
            services[4].name()
        )
    );
    let said: Vec<String> = found
        .answers
        .iter()
        .map(|(_, a)| a.clone().map_or_else(|e| e, |ip| ip.to_string()))
        .collect();
    assert_eq!(
        said[0],
        "answered `<html>203.0.113.7</html>`, not an IP address"
    );
    assert!(
        said[1].starts_with("TLS: invalid peer certificate: UnknownIssuer"),
        "{}",
        said[1]
    );
    assert!(said[2].starts_with("TLS: "), "{}", said[2]);
    assert_eq!(said[3], "answered 418 I'm a teapot");

    // With no honest service, nothing is discovered, and every failure is listed.
    let err = discovery(&ca, services[..4].to_vec())
        .discover()
        .await
        .unwrap_err();
    assert!(!err.disagree());
    assert!(
        err.to_string()
            .starts_with("no discovery service gave an address: "),
        "{err}"
    );
    assert_eq!(err.answers().len(), 4);
}

#[test]
fn only_https_urls_are_services() {
    for url in [
        "http://checkip.amazonaws.com",
        "checkip.amazonaws.com",
        "ftp://x",
    ] {
        let err = Service::text(url).unwrap_err();
        assert!(err.contains("HTTPS only"), "{err}");
    }
    let s = Service::json("https://ipinfo.io:8443/json").unwrap();
    assert_eq!(
        (s.name(), s.port, s.path.as_str()),
        ("ipinfo.io:8443", 8443, "/json")
    );
    assert!(Discovery::default().trust_pem(b"not pem").is_err());
}

/// An axon bound to every interface announces the discovered address, and refuses to start
/// when the services disagree, naming every answer.
#[tokio::test]
async fn an_axon_announces_what_agreeing_services_say_and_refuses_disagreement() {
    let ca = Ca::new("axon test CA");
    let a = Service::text(&serve(Some(ca.server()), ok("203.0.113.7")).await).unwrap();
    let b = Service::text(&serve(Some(ca.server()), ok("203.0.113.7")).await).unwrap();
    let c = Service::text(&serve(Some(ca.server()), ok("198.51.100.9")).await).unwrap();
    let axon = |services: Vec<Service>| {
        crate::Axon::new()
            .hotkey(crate::keys::Keypair::from_uri("//Alice").unwrap())
            .ip("0.0.0.0")
            .port(0)
            .discovery(discovery(&ca, services))
    };
    let mut agreed = axon(vec![a.clone(), b]);
    agreed.start().await.unwrap();
    assert_eq!(agreed.info().unwrap().ip, "203.0.113.7");
    agreed.stop().await;

    let err = axon(vec![a.clone(), c.clone()]).start().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the axon cannot start (1 problem):\n  - the external IP could not be discovered (the \
             discovery services disagree: {}: 203.0.113.7; {}: 198.51.100.9): give it with \
             `--axon.external_ip` or `BT_AXON_EXTERNAL_IP`",
            a.name(),
            c.name()
        )
    );
}

//! Stage 1: who the client is. A request from a trusted proxy may name its client in
//! `X-Forwarded-For`; from anyone else the connection's own address is the client. What it
//! finds becomes `synapse.dendrite.ip` / `port`.

use crate::net::TrustedProxies;
use http::HeaderMap;
use std::net::{IpAddr, SocketAddr};

/// The client of a request that arrived from `peer` (already the PROXY header's client, if
/// the connection had one).
///
/// From a trusted `peer`, the `X-Forwarded-For` hops are read right to left: each listed
/// proxy is skipped, and the first address that is not one is the client, with port 0 (a
/// hop carries no port). If every hop is a listed proxy, the leftmost is. An entry that is
/// not an address ends the walk at the last good one: what lies left of it cannot be
/// trusted.
pub(crate) fn client(
    proxies: &TrustedProxies,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> SocketAddr {
    if proxies.is_empty() || !proxies.contains(peer.ip()) {
        return peer;
    }
    let mut client = peer;
    let values: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    for hop in values.iter().rev().flat_map(|v| v.rsplit(',')) {
        let Some(ip) = hop_ip(hop.trim()) else { break };
        client = SocketAddr::new(ip, 0);
        if !proxies.contains(ip) {
            break;
        }
    }
    client
}

/// A hop: `203.0.113.7`, `2001:db8::7`, `203.0.113.7:4711` or `[2001:db8::7]:4711`.
fn hop_ip(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Ok(addr) = hop.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8", "127.0.0.1"]).unwrap();
        let proxy: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let ip = |xff: &[&str]| client(&proxies, proxy, &with(xff)).to_string();
        assert_eq!(ip(&[]), "127.0.0.1:5000", "no header: the proxy itself");
        assert_eq!(ip(&["203.0.113.7"]), "203.0.113.7:0");
        assert_eq!(
            ip(&["203.0.113.7, 10.1.2.3"]),
            "203.0.113.7:0",
            "a trusted hop is skipped"
        );
        assert_eq!(
            ip(&["1.2.3.4, 203.0.113.7"]),
            "203.0.113.7:0",
            "a spoofed left part is ignored"
        );
        assert_eq!(
            ip(&["1.2.3.4", "203.0.113.7"]),
            "203.0.113.7:0",
            "headers join in order"
        );
        assert_eq!(
            ip(&["10.9.9.9, 10.1.2.3"]),
            "10.9.9.9:0",
            "all trusted: the leftmost"
        );
        assert_eq!(
            ip(&["1.2.3.4, garbage, 10.1.2.3"]),
            "10.1.2.3:0",
            "stops at garbage"
        );
        assert_eq!(ip(&["[2001:db8::7]:4711"]), "[2001:db8::7]:0");
        assert_eq!(ip(&["203.0.113.7:4711"]), "203.0.113.7:0");
        assert_eq!(ip(&["unknown"]), "127.0.0.1:5000");
    }

    #[test]
    fn an_untrusted_peer_is_its_own_client() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8"]).unwrap();
        let direct: SocketAddr = "198.51.100.1:5000".parse().unwrap();
        assert_eq!(client(&proxies, direct, &with(&["203.0.113.7"])), direct);
        let none = TrustedProxies::default();
        assert_eq!(client(&none, direct, &with(&["203.0.113.7"])), direct);
    }
}

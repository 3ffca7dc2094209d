//! Networking helpers that know nothing of synapses: whose word about a client's address is
//! believed ([`TrustedProxies`], the PROXY protocol), and how an address is reported.

mod proxies;

pub(crate) use proxies::{read_header, Prefixed};

/// The first byte of a TLS record carrying a handshake message: what tells a TLS client
/// from a plain HTTP one on the same port (no HTTP method starts with it).
pub(crate) const TLS_HANDSHAKE_RECORD: u8 = 0x16;
pub use proxies::{ProxyError, TrustedProxies};

use std::net::IpAddr;

/// An IPv4 client reaching a dual-stack socket shows as `::ffff:a.b.c.d`; report it as the
/// IPv4 address it is.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

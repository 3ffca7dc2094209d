//! Trusted proxies: the addresses whose word about the real client is taken, and the PROXY
//! protocol header (v1 and v2) such a proxy may open a connection with.
//!
//! Only a connection from a listed proxy is read for a PROXY header (a client connecting
//! directly cannot claim another address: its header would be an invalid request, 400).
//! Without one, the connection's requests may still name their client in
//! `X-Forwarded-For` (see `pipeline::forwarded`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// The proxies whose `X-Forwarded-For` and PROXY headers are believed.
///
/// ```
/// let proxies = axon::TrustedProxies::parse(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]).unwrap();
/// assert!(proxies.contains("10.20.30.40".parse().unwrap()));
/// assert!(proxies.contains("::ffff:127.0.0.1".parse().unwrap()));
/// assert!(!proxies.contains("203.0.113.7".parse().unwrap()));
/// let err = axon::TrustedProxies::parse(["10.0.0.0/33"]).unwrap_err();
/// assert_eq!(err.entry(), "10.0.0.0/33");
/// assert_eq!(err.to_string(), "`10.0.0.0/33` is not an IP address or network (like 10.0.0.1 or 10.0.0.0/8)");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<(IpAddr, u8)>,
}

/// An entry of a trusted-proxy list that is neither an address nor a network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyError {
    entry: String,
}

impl ProxyError {
    /// The entry, as given (trimmed).
    pub fn entry(&self) -> &str {
        &self.entry
    }
}

impl std::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` is not an IP address or network (like 10.0.0.1 or 10.0.0.0/8)",
            self.entry
        )
    }
}

impl std::error::Error for ProxyError {}

impl TrustedProxies {
    /// Addresses (`10.0.0.1`, `::1`) and networks (`10.0.0.0/8`, `fd00::/8`); the error names
    /// the first entry that is neither.
    pub fn parse<I, T>(entries: I) -> Result<Self, ProxyError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let mut networks = Vec::new();
        for entry in entries {
            let entry = entry.as_ref().trim();
            let bad = || ProxyError {
                entry: entry.to_owned(),
            };
            let (ip, bits) = match entry.split_once('/') {
                Some((ip, bits)) => (ip, Some(bits.parse::<u8>().map_err(|_| bad())?)),
                None => (entry, None),
            };
            let ip = canonical(ip.parse::<IpAddr>().map_err(|_| bad())?);
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = bits.unwrap_or(max);
            if bits > max {
                return Err(bad());
            }
            networks.push((ip, bits));
        }
        Ok(TrustedProxies { networks })
    }

    /// Whether none is listed (nothing is believed).
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether `ip` is a listed proxy (an IPv4-mapped IPv6 address counts as its IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.networks.iter().any(|&(net, bits)| match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                prefix(u32::from(n).into(), u32::from(a).into(), bits, 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix(u128::from(n), u128::from(a), bits, 128),
            _ => false,
        })
    }
}

/// Whether the first `bits` of `a` and `b` (numbers `width` bits wide) are equal.
fn prefix(a: u128, b: u128, bits: u8, width: u32) -> bool {
    let shift = width - u32::from(bits);
    shift >= width || (a >> shift) == (b >> shift)
}

/// An IPv4-mapped IPv6 address as its IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    super::canonical(ip)
}

/// The v2 signature.
const V2: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
/// The longest v1 header, CRLF included.
const V1_MAX: usize = 107;
/// The longest v2 header accepted (addresses plus some TLVs).
const V2_MAX: usize = 16 + 512;

/// Reads a PROXY header, if the connection starts with one: the client it names (`None`
/// for `UNKNOWN`/`LOCAL`, or when there is no header), and the bytes read past it, which
/// belong to the first request. A header that starts but is malformed is an error.
pub(crate) async fn read_header<R: AsyncRead + Unpin>(
    stream: &mut R,
) -> io::Result<(Option<SocketAddr>, Vec<u8>)> {
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 256];
    loop {
        let is_v1 = starts_like(&buf, b"PROXY ");
        let is_v2 = starts_like(&buf, V2);
        if !is_v1 && !is_v2 {
            return Ok((None, buf));
        }
        if is_v1 && buf.len() >= 6 {
            if let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
                let client = parse_v1(&buf[..end])?;
                return Ok((client, buf.split_off(end + 2)));
            }
            if buf.len() >= V1_MAX {
                return Err(malformed("a PROXY v1 header longer than 107 bytes"));
            }
        }
        if is_v2 && buf.len() >= 16 {
            let len = 16 + usize::from(u16::from_be_bytes([buf[14], buf[15]]));
            if len > V2_MAX {
                return Err(malformed("a PROXY v2 header longer than 528 bytes"));
            }
            if buf.len() >= len {
                let client = parse_v2(&buf[..len])?;
                return Ok((client, buf.split_off(len)));
            }
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(malformed("the connection closed inside a PROXY header"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Whether `buf` could be the start of `signature` (or starts with it).
fn starts_like(buf: &[u8], signature: &[u8]) -> bool {
    let n = buf.len().min(signature.len());
    buf[..n] == signature[..n]
}

fn malformed(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// `PROXY TCP4 src dst sport dport` (without the CRLF).
fn parse_v1(line: &[u8]) -> io::Result<Option<SocketAddr>> {
    let bad = || malformed("a malformed PROXY v1 header");
    let line = std::str::from_utf8(line).map_err(|_| bad())?;
    let mut parts = line.split(' ');
    parts.next(); // "PROXY"
    match parts.next() {
        Some("UNKNOWN") => Ok(None),
        Some(family @ ("TCP4" | "TCP6")) => {
            let fields: Vec<&str> = parts.collect();
            let [src, _dst, sport, _dport] = fields[..] else {
                return Err(bad());
            };
            let ip: IpAddr = src.parse().map_err(|_| bad())?;
            if ip.is_ipv4() != (family == "TCP4") {
                return Err(bad());
            }
            let port: u16 = sport.parse().map_err(|_| bad())?;
            Ok(Some(SocketAddr::new(ip, port)))
        }
        _ => Err(bad()),
    }
}

/// A whole v2 header.
fn parse_v2(header: &[u8]) -> io::Result<Option<SocketAddr>> {
    let version_command = header[12];
    if version_command >> 4 != 2 {
        return Err(malformed("a PROXY v2 header of an unknown version"));
    }
    let addresses = &header[16..];
    match (version_command & 0x0f, header[13] >> 4) {
        (0, _) => Ok(None), // LOCAL: the proxy's own connection (a health check)
        (1, 1) if addresses.len() >= 12 => {
            let ip = Ipv4Addr::new(addresses[0], addresses[1], addresses[2], addresses[3]);
            let port = u16::from_be_bytes([addresses[8], addresses[9]]);
            Ok(Some(SocketAddr::new(IpAddr::V4(ip), port)))
        }
        (1, 2) if addresses.len() >= 36 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&addresses[..16]);
            let port = u16::from_be_bytes([addresses[32], addresses[33]]);
            Ok(Some(SocketAddr::new(
                IpAddr::V6(Ipv6Addr::from(octets)),
                port,
            )))
        }
        (1, 0 | 3) => Ok(None), // UNSPEC or a Unix socket: no address to use
        _ => Err(malformed("a malformed PROXY v2 header")),
    }
}

/// A stream whose first bytes were already read: they are read again first.
pub(crate) struct Prefixed<S> {
    prefix: Vec<u8>,
    at: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    pub(crate) fn new(prefix: Vec<u8>, inner: S) -> Self {
        Prefixed {
            prefix,
            at: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.prefix.len() {
            let rest = &this.prefix[this.at..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.at += n;
            if this.at == this.prefix.len() {
                this.prefix = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(bytes: &[u8]) -> io::Result<(Option<SocketAddr>, Vec<u8>)> {
        let mut stream = bytes;
        read_header(&mut stream).await
    }

    #[tokio::test(flavor = "current_thread")]
    async fn v1_headers() {
        let (client, rest) = read(b"PROXY TCP4 203.0.113.9 10.0.0.1 40000 8091\r\nPOST /")
            .await
            .unwrap();
        assert_eq!(client, Some("203.0.113.9:40000".parse().unwrap()));
        assert_eq!(rest, b"POST /");
        let (client, _) = read(b"PROXY TCP6 2001:db8::9 ::1 5 6\r\n").await.unwrap();
        assert_eq!(client, Some("[2001:db8::9]:5".parse().unwrap()));
        assert_eq!(
            read(b"PROXY UNKNOWN\r\nGET").await.unwrap(),
            (None, b"GET".to_vec())
        );
        for bad in [
            &b"PROXY TCP4 203.0.113.9 10.0.0.1 40000\r\n"[..],
            b"PROXY TCP4 2001:db8::9 ::1 5 6\r\n",
            b"PROXY TCP4 1.2.3.4 1.2.3.4 70000 1\r\n",
            b"PROXY HTTP 1.2.3.4\r\n",
            b"PROXY TCP4 1.2.3.4",
        ] {
            assert!(read(bad).await.is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let long = format!("PROXY TCP4 {}\r\n", "1".repeat(200));
        assert!(read(long.as_bytes()).await.is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn v2_headers() {
        let mut h = V2.to_vec();
        h.extend_from_slice(&[
            0x21, 0x11, 0, 12, 203, 0, 113, 9, 10, 0, 0, 1, 0x9c, 0x40, 0x1f, 0x9b,
        ]);
        h.extend_from_slice(b"POST");
        let (client, rest) = read(&h).await.unwrap();
        assert_eq!(client, Some("203.0.113.9:40000".parse().unwrap()));
        assert_eq!(rest, b"POST");
        let mut local = V2.to_vec();
        local.extend_from_slice(&[0x20, 0x00, 0, 0]);
        assert_eq!(read(&local).await.unwrap().0, None);
        let mut huge = V2.to_vec();
        huge.extend_from_slice(&[0x21, 0x11, 0xff, 0xff]);
        assert!(read(&huge).await.is_err());
        let mut v3 = V2.to_vec();
        v3.extend_from_slice(&[0x31, 0x11, 0, 0]);
        assert!(read(&v3).await.is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn anything_else_is_passed_through() {
        let (client, rest) = read(b"POST /Echo HTTP/1.1\r\n").await.unwrap();
        assert_eq!(
            (client, rest.as_slice()),
            (None, &b"POST /Echo HTTP/1.1\r\n"[..])
        );
        assert_eq!(read(b"PROXIES").await.unwrap(), (None, b"PROXIES".to_vec()));
    }

    #[test]
    fn networks_match_by_prefix() {
        let p = TrustedProxies::parse(["10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "0.0.0.0/0"])
            .unwrap();
        assert!(p.contains("10.255.0.1".parse().unwrap()));
        assert!(
            p.contains("8.8.8.8".parse().unwrap()),
            "0.0.0.0/0 is every IPv4"
        );
        assert!(p.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!p.contains("2001:db9::1".parse().unwrap()));
        let p = TrustedProxies::parse(["192.168.1.7"]).unwrap();
        assert!(!p.contains("192.168.1.8".parse().unwrap()));
        assert!(TrustedProxies::parse(["nginx"]).is_err());
        assert!(TrustedProxies::parse(["::1/129"]).is_err());
    }
}

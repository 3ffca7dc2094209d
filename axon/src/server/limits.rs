//! The limits an axon puts on what a client may send and hold, each refused cheaply and
//! clearly.

use std::time::Duration;

/// The limits on requests and connections (see [`Axon::limits`](crate::Axon::limits)).
///
/// | limit | default | beyond it |
/// |---|---|---|
/// | `max_body` | 10 MiB | 413 `Request body larger than the limit of N bytes`, nothing past the limit read |
/// | `max_header_bytes` | 16 KiB (request line and headers; a dendrite sends about 1.5 KiB) | 431, connection closed |
/// | `max_headers` | 100 | 431, connection closed |
/// | `header_read_timeout` | 30 s | connection closed (also how long an idle keep-alive connection stays open) |
/// | `max_connections` | 10,000 | the connection idle the longest is closed for the new one; when none is idle, new ones wait in the kernel's backlog |
/// | `max_connections_per_address` | 256 | a new connection from that address is closed at once (trusted proxies exempt) |
/// | `first_head_timeout` | 5 s | a new connection that sends nothing (or, over TLS, does not finish its handshake) by then is closed |
/// | `tls_handshakes_per_address` | 64 a second, after a burst of `max_connections_per_address` | with TLS on: a new TLS connection from that address is closed before its handshake (the client's address, after a trusted proxy's PROXY header) |
/// | `tls_handshakes_per_second` | 1,000 a second per core, after a burst of one second's worth | with TLS on: a new TLS connection from any address is closed before its handshake |
/// | `max_json_depth` | 64 | 400 `Could not parse the body as synapse S: JSON nested deeper than N levels`, found before parsing |
/// | `body_timeout` | 5 s | signed-HTTP endpoints: 408 when the body has not arrived by then (or by the endpoint's timeout, if shorter) |
/// | `unverified_body_bytes_per_address` | 64 MiB | signed-HTTP endpoints: 503 when bodies not yet verified from one client address would hold more (one body alone may reach the endpoint's `max_body`) |
/// | `unverified_body_bytes` | 256 MiB (at least the largest endpoint `max_body`) | signed-HTTP endpoints: 503 when bodies not yet verified, or verified and waiting for a worker, would hold more |
///
/// A synapse declared with `#[synapse(max_body = N)]` has its own body limit instead of
/// `max_body` ([`Synapse::MAX_BODY`](crate::Synapse::MAX_BODY)).
///
/// A synapse request's body is read only after its signature verified, and must arrive
/// within its synapse's timeout (408). A signed-HTTP endpoint signs its body's hash, so its
/// body is read first, before it may take a worker: within `body_timeout`, its bytes
/// counted against the two `unverified_body_bytes` budgets until the request is admitted. The JSON parser itself
/// refuses nesting deeper than 128 levels, whatever `max_json_depth` says.
///
/// ```
/// use std::time::Duration;
///
/// let mut limits = axon::Limits::default();
/// assert_eq!(limits.max_body, 10 * 1024 * 1024);
/// limits.max_connections = 2_000;
/// limits.header_read_timeout = Duration::from_secs(10);
/// let axon = axon::Axon::new().limits(limits);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest request body, in bytes, for synapses that declare no `max_body` of their
    /// own.
    pub max_body: usize,
    /// The largest request head (request line plus headers), in bytes.
    pub max_header_bytes: usize,
    /// The most header fields in a request.
    pub max_headers: usize,
    /// How long a client has to send a request's head, counted from the end of the previous
    /// response on a kept-alive connection.
    pub header_read_timeout: Duration,
    /// The most connections open at once.
    pub max_connections: usize,
    /// The most connections open at once from one address (a trusted proxy's excepted).
    pub max_connections_per_address: usize,
    /// How long a new connection may stay silent before its first request.
    pub first_head_timeout: Duration,
    /// With TLS on, the TLS handshakes one client address may start a second, after a burst
    /// of `max_connections_per_address` (a handshake costs the axon a key exchange and a
    /// signature before any request is read).
    pub tls_handshakes_per_address: u32,
    /// With TLS on, the TLS handshakes the axon starts a second from all addresses, after a
    /// burst of one second's worth: at about 190 us each, the default keeps handshakes under
    /// a fifth of the machine's CPU.
    pub tls_handshakes_per_second: u32,
    /// The deepest nesting of arrays and objects in a request body.
    pub max_json_depth: usize,
    /// How long a signed-HTTP request's body may take to arrive (counted from the request's
    /// arrival; the endpoint's timeout, if shorter, applies instead).
    pub body_timeout: Duration,
    /// The most bytes that signed-HTTP bodies not yet verified, or verified and waiting for
    /// a worker, may hold, from all clients.
    pub unverified_body_bytes: usize,
    /// The most bytes that signed-HTTP bodies not yet verified may hold from one client
    /// address; a lone body from an address may exceed it up to its endpoint's `max_body`.
    pub unverified_body_bytes_per_address: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: crate::pipeline::DEFAULT_MAX_BODY,
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            header_read_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            max_connections_per_address: 256,
            first_head_timeout: Duration::from_secs(5),
            tls_handshakes_per_address: 64,
            tls_handshakes_per_second: 1_000
                * std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            max_json_depth: 64,
            body_timeout: Duration::from_secs(5),
            unverified_body_bytes: 256 * 1024 * 1024,
            unverified_body_bytes_per_address: 64 * 1024 * 1024,
        }
    }
}

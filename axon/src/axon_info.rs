//! [`AxonInfo`]: what an axon announces to the network (Python's `AxonInfo`).

use std::fmt;

/// The endpoint record of an axon, field for field Python's `AxonInfo`: what `serve`
/// publishes on chain and what validators dial.
///
/// ```
/// let info = axon::AxonInfo {
///     version: 10_005_000,
///     ip: "203.0.113.7".into(),
///     port: 8091,
///     ip_type: 4,
///     hotkey: "5Hot".into(),
///     coldkey: Some("5Cold".into()),
///     protocol: 4,
///     placeholder1: 0,
///     placeholder2: 0,
/// };
/// assert_eq!(info.ip_str(), "/ipv4/203.0.113.7:8091");
/// assert_eq!(info.to_string(), "AxonInfo( /ipv4/203.0.113.7:8091, 5Hot, 5Cold, 10005000 )");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxonInfo {
    /// The bittensor protocol version served, `major*1_000_000 + minor*1_000 + patch`.
    pub version: i64,
    /// The external IP address.
    pub ip: String,
    /// The external port.
    pub port: u16,
    /// 4 or 6.
    pub ip_type: u8,
    /// The hotkey's SS58 address.
    pub hotkey: String,
    /// The coldkey's SS58 address, when known (from the wallet's `coldkeypub.txt`).
    pub coldkey: Option<String>,
    /// Python's protocol field: 4.
    pub protocol: u8,
    /// Reserved (0).
    pub placeholder1: u8,
    /// Reserved (0).
    pub placeholder2: u8,
}

impl AxonInfo {
    /// Python's `ip_str()`: `/ipv{type}/{ip}:{port}`.
    pub fn ip_str(&self) -> String {
        format!("/ipv{}/{}:{}", self.ip_type, self.ip, self.port)
    }
}

impl fmt::Display for AxonInfo {
    /// Python's `str(AxonInfo)`; an unknown coldkey shows as `None`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AxonInfo( {}, {}, {}, {} )",
            self.ip_str(),
            self.hotkey,
            self.coldkey.as_deref().unwrap_or("None"),
            self.version
        )
    }
}

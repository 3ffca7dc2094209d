//! `TerminalInfo`: what each end of a call says about itself.

use super::coerce;
use super::headers::{HeaderError, Headers};
use super::pystr::{write_dict, PyStr};
use serde::{Deserialize, Serialize};

/// The `dendrite` and `axon` sections of a synapse, field for field Python's `TerminalInfo`.
///
/// Every field is optional (`null` in JSON when unset). The numbers accept what pydantic's
/// `cast_int` / `cast_float` accept, so `"8091"` reads as `8091`.
///
/// ```
/// use axon::TerminalInfo;
///
/// let t: TerminalInfo = serde_json::from_str(r#"{"port": "8091", "hotkey": "5F..."}"#).unwrap();
/// assert_eq!(t.port, Some(8091));
/// assert_eq!(t.hotkey.as_deref(), Some("5F..."));
/// assert_eq!(t.status_code, None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TerminalInfo {
    /// The HTTP status code of the call.
    #[serde(default, deserialize_with = "coerce::opt_int")]
    pub status_code: Option<i64>,
    /// The message that goes with `status_code`.
    #[serde(default)]
    pub status_message: Option<String>,
    /// Seconds this end spent on the call.
    #[serde(default, deserialize_with = "coerce::opt_float")]
    pub process_time: Option<f64>,
    /// The terminal's IP address.
    #[serde(default)]
    pub ip: Option<String>,
    /// The terminal's port.
    #[serde(default, deserialize_with = "coerce::opt_int")]
    pub port: Option<i64>,
    /// The terminal's bittensor version as `major*1_000_000 + minor*1_000 + patch`.
    #[serde(default, deserialize_with = "coerce::opt_int")]
    pub version: Option<i64>,
    /// The nonce (a `time.time_ns()` timestamp) that prevents replays.
    #[serde(default, deserialize_with = "coerce::opt_int")]
    pub nonce: Option<i64>,
    /// The terminal's instance uuid.
    #[serde(default)]
    pub uuid: Option<String>,
    /// The terminal's SS58 hotkey.
    #[serde(default)]
    pub hotkey: Option<String>,
    /// `0x`-prefixed hex sr25519 signature.
    #[serde(default)]
    pub signature: Option<String>,
}

enum Slot<'a> {
    Int(&'a mut Option<i64>),
    Float(&'a mut Option<f64>),
    Text(&'a mut Option<String>),
}

impl TerminalInfo {
    fn slot(&mut self, field: &str) -> Option<Slot<'_>> {
        Some(match field {
            "status_code" => Slot::Int(&mut self.status_code),
            "status_message" => Slot::Text(&mut self.status_message),
            "process_time" => Slot::Float(&mut self.process_time),
            "ip" => Slot::Text(&mut self.ip),
            "port" => Slot::Int(&mut self.port),
            "version" => Slot::Int(&mut self.version),
            "nonce" => Slot::Int(&mut self.nonce),
            "uuid" => Slot::Text(&mut self.uuid),
            "hotkey" => Slot::Text(&mut self.hotkey),
            "signature" => Slot::Text(&mut self.signature),
            _ => return None,
        })
    }

    /// Sets the field a `bt_header_{axon,dendrite}_{field}` header names. Unknown fields are
    /// ignored, as pydantic ignores extra keys.
    pub(crate) fn set_from_header(
        &mut self,
        field: &str,
        value: &str,
        header: &str,
    ) -> Result<(), HeaderError> {
        match self.slot(field) {
            None => {}
            Some(Slot::Text(t)) => *t = Some(value.to_owned()),
            Some(Slot::Int(i)) => {
                *i = Some(
                    coerce::py_int(value).ok_or_else(|| HeaderError::NotAnInteger {
                        header: header.to_owned(),
                        value: super::headers::excerpt(value),
                    })?,
                )
            }
            Some(Slot::Float(f)) => {
                *f = Some(
                    coerce::py_float(value).ok_or_else(|| HeaderError::NotAFloat {
                        header: header.to_owned(),
                        value: super::headers::excerpt(value),
                    })?,
                )
            }
        }
        Ok(())
    }

    /// Sets every field that `other` has set, keeping the others: Python's
    /// `{**self.model_dump(exclude_none=True), **other.model_dump(exclude_none=True)}`.
    ///
    /// ```
    /// use axon::TerminalInfo;
    ///
    /// let mut mine = TerminalInfo { hotkey: Some("5Me".into()), port: Some(1), ..Default::default() };
    /// mine.overlay(&TerminalInfo { port: Some(2), status_code: Some(200), ..Default::default() });
    /// assert_eq!((mine.hotkey.as_deref(), mine.port, mine.status_code), (Some("5Me"), Some(2), Some(200)));
    /// ```
    pub fn overlay(&mut self, other: &TerminalInfo) {
        fn take<T: Clone>(into: &mut Option<T>, from: &Option<T>) {
            if from.is_some() {
                into.clone_from(from);
            }
        }
        take(&mut self.status_code, &other.status_code);
        take(&mut self.status_message, &other.status_message);
        take(&mut self.process_time, &other.process_time);
        take(&mut self.ip, &other.ip);
        take(&mut self.port, &other.port);
        take(&mut self.version, &other.version);
        take(&mut self.nonce, &other.nonce);
        take(&mut self.uuid, &other.uuid);
        take(&mut self.hotkey, &other.hotkey);
        take(&mut self.signature, &other.signature);
    }

    /// The fields in Python's declaration order, `None` where unset.
    fn entries(&self) -> [(&'static str, Option<&dyn PyStr>); 10] {
        fn set<T: PyStr>(v: &Option<T>) -> Option<&dyn PyStr> {
            v.as_ref().map(|v| v as &dyn PyStr)
        }
        [
            ("status_code", set(&self.status_code)),
            ("status_message", set(&self.status_message)),
            ("process_time", set(&self.process_time)),
            ("ip", set(&self.ip)),
            ("port", set(&self.port)),
            ("version", set(&self.version)),
            ("nonce", set(&self.nonce)),
            ("uuid", set(&self.uuid)),
            ("hotkey", set(&self.hotkey)),
            ("signature", set(&self.signature)),
        ]
    }

    /// Appends `{names[i]}: str(value)` for every set field, in declaration order: `names`
    /// is [`AXON_HEADERS`] or [`DENDRITE_HEADERS`].
    pub(crate) fn write_headers(&self, names: &'static [&'static str; 10], out: &mut Headers) {
        for ((_, value), name) in self.entries().into_iter().zip(names) {
            if let Some(value) = value {
                out.push(*name, value.to_py_str());
            }
        }
    }
}

/// The header names of the axon's terminal, `bt_header_axon_{field}`, in the order of
/// [`TerminalInfo::entries`].
pub(crate) const AXON_HEADERS: [&str; 10] = [
    "bt_header_axon_status_code",
    "bt_header_axon_status_message",
    "bt_header_axon_process_time",
    "bt_header_axon_ip",
    "bt_header_axon_port",
    "bt_header_axon_version",
    "bt_header_axon_nonce",
    "bt_header_axon_uuid",
    "bt_header_axon_hotkey",
    "bt_header_axon_signature",
];

/// The header names of the dendrite's terminal, `bt_header_dendrite_{field}`.
pub(crate) const DENDRITE_HEADERS: [&str; 10] = [
    "bt_header_dendrite_status_code",
    "bt_header_dendrite_status_message",
    "bt_header_dendrite_process_time",
    "bt_header_dendrite_ip",
    "bt_header_dendrite_port",
    "bt_header_dendrite_version",
    "bt_header_dendrite_nonce",
    "bt_header_dendrite_uuid",
    "bt_header_dendrite_hotkey",
    "bt_header_dendrite_signature",
];

/// Rendered as the dict `model_dump()` makes of it.
impl PyStr for TerminalInfo {
    fn py_repr(&self, out: &mut String) {
        let entries = self.entries();
        let none: &dyn PyStr = &None::<i64>;
        write_dict(entries.iter().map(|(k, v)| (k, v.unwrap_or(none))), out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_names_are_the_prefixed_field_names() {
        let fields = TerminalInfo::default().entries().map(|(field, _)| field);
        for (names, prefix) in [
            (AXON_HEADERS, "bt_header_axon_"),
            (DENDRITE_HEADERS, "bt_header_dendrite_"),
        ] {
            let expected = fields.map(|f| format!("{prefix}{f}"));
            assert_eq!(names.map(String::from), expected);
        }
    }
}

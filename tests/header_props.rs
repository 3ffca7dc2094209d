//! Property tests: reading headers is total. Any header map yields a synapse or a typed
//! `HeaderError` that names one of the headers given, and never panics.

use axon::wire::{HeaderError, HeaderParts};
use axon::Synapse;
use proptest::prelude::*;

#[axon::synapse]
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    #[hash]
    pub text: String,
    #[hash]
    pub n: i64,
    #[default]
    pub scores: Vec<f64>,
}

/// Header names: the ones the codec reads (any case) and arbitrary others.
fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("name".to_owned()),
        Just("Timeout".to_owned()),
        Just("header_size".to_owned()),
        Just("total_size".to_owned()),
        Just("computed_body_hash".to_owned()),
        prop::sample::select(vec![
            "nonce",
            "port",
            "version",
            "status_code",
            "process_time",
            "hotkey",
            "uuid",
            "bogus"
        ])
        .prop_flat_map(|f| prop::sample::select(vec![
            "bt_header_axon_",
            "BT_HEADER_DENDRITE_",
            "bt_header_dendrite_"
        ])
        .prop_map(move |p| format!("{p}{f}"))),
        prop::sample::select(vec!["text", "n", "scores", "unknown"])
            .prop_map(|f| format!("bt_header_input_obj_{f}")),
        "[a-z_-]{1,24}",
    ]
}

/// Header values: numbers, base64, JSON, arbitrary bytes, long values.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string().into_bytes()),
        any::<f64>().prop_map(|f| f.to_string().into_bytes()),
        prop::sample::select(vec![
            "IiI=", "MA==", "W10=", "e30=", "MC4w", "!!!!", "abc", "", " 12 ", "1_0", "nan", "-inf"
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..64),
        prop::collection::vec(any::<u8>(), 8000..9000),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn any_header_map_parses_or_names_the_header(headers in prop::collection::vec((header_name(), header_value()), 0..24)) {
        let parsed = HeaderParts::from_pairs(headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())))
            .and_then(Probe::from_header_parts);
        match parsed {
            Ok(probe) => {
                // A parsed synapse writes headers that read back to the same synapse.
                let again = HeaderParts::from_pairs(probe.to_headers().iter().map(|(n, v)| (n, v.as_bytes())))
                    .and_then(Probe::from_header_parts)
                    .expect("our own headers read back");
                prop_assert_eq!(again.dendrite, probe.dendrite.clone());
                prop_assert_eq!(again.text, probe.text.clone());
            }
            Err(HeaderError::Missing { header }) => {
                prop_assert!(header == "bt_header_input_obj_text" || header == "bt_header_input_obj_n", "{}", header);
            }
            Err(e) => {
                let named = e.header().to_owned();
                prop_assert!(headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&named)), "{} names no given header", e);
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}

#[test]
fn typed_errors_for_each_kind_of_bad_header() {
    let read = |pairs: &[(&str, &[u8])]| {
        HeaderParts::from_pairs(pairs.iter().copied()).and_then(Probe::from_header_parts)
    };
    let ok: [(&str, &[u8]); 2] = [
        ("bt_header_input_obj_text", b"IiI="),
        ("bt_header_input_obj_n", b"MA=="),
    ];
    let with = |extra: (&'static str, &'static [u8])| {
        let mut v = ok.to_vec();
        v.push(extra);
        read(&v).unwrap_err()
    };
    assert_eq!(
        read(&ok[..1]).unwrap_err(),
        HeaderError::Missing {
            header: "bt_header_input_obj_n".into()
        }
    );
    assert_eq!(
        with(("timeout", b"abc")).to_string(),
        "header `timeout`: `abc` is not a number (Python's float() refuses it)"
    );
    assert!(matches!(
        with(("bt_header_dendrite_nonce", b"-1.5")),
        HeaderError::NotAnInteger { .. }
    ));
    assert!(matches!(
        with(("bt_header_input_obj_text", b"IiI=")),
        HeaderError::Duplicate { .. }
    ));
    assert!(matches!(
        with(("bt_header_input_obj_scores", b"e30=")),
        HeaderError::BadInputObj { .. }
    ));
    assert!(matches!(
        with(("bt_header_input_obj_scores", b"W10")),
        HeaderError::NotBase64 { .. }
    ));
    assert!(matches!(
        with(("bt_header_axon_hotkey", &[0xc3, 0x28])),
        HeaderError::NotUtf8 { .. }
    ));
    assert!(matches!(
        with(("computed_body_hash", &[b'a'; 9000])),
        HeaderError::TooLong {
            len: 9000,
            max: 8192,
            ..
        }
    ));
    // an input_obj for a field with a default sets it, as Python's kwargs do
    let mut v = ok.to_vec();
    v.push(("bt_header_input_obj_scores", b"WzEuNV0=")); // [1.5]
    assert_eq!(read(&v).unwrap().scores, vec![1.5]);
    // headers the codec does not own are never inspected
    let mut v = ok.to_vec();
    v.push(("x-forwarded-for", &[0xff, 0xfe]));
    assert_eq!(read(&v).unwrap().timeout, None); // absent timeout: None, like Python
}

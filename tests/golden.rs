//! Golden vectors: the Rust codec against what the real `bittensor==10.5.0` produces.
//!
//! `tests/python/golden.py` defines Python synapses and values; this file defines the same
//! ones under the same ids and compares Python's `str()`, `body_hash`, `to_headers()`,
//! `model_dump_json()`, the body a dendrite sends and `from_headers()`, both ways.

mod support;

use axon::wire::{BigInt, HeaderParts, PyStr};
use axon::Synapse;
use indexmap::IndexMap;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::OnceLock;
use support::Echo;

fn golden() -> &'static Value {
    static GOLDEN: OnceLock<Value> = OnceLock::new();
    GOLDEN.get_or_init(|| {
        let text = support::run_python_script("golden.py");
        let v: Value = serde_json::from_str(&text).expect("golden.py prints JSON");
        assert_eq!(v["bittensor_version"], support::BITTENSOR_VERSION);
        v
    })
}

#[axon::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Inner {
    #[default(1)]
    pub a: i64,
    #[default("x".into())]
    pub b: String,
}

#[axon::synapse]
#[derive(Debug, Clone, PartialEq)]
pub struct TestSynapse {
    #[hash]
    pub a: i64,
    #[hash]
    #[default]
    pub b: Option<i64>,
    #[default]
    pub c: Option<i64>,
    #[hash]
    #[default]
    pub d: Option<Vec<String>>,
}

#[axon::synapse]
#[derive(Debug, Clone, PartialEq)]
pub struct Kitchen {
    #[hash]
    #[default]
    pub f: f64,
    #[hash]
    #[default]
    pub floats: Vec<f64>,
    #[hash]
    #[default]
    pub pair: (i64, String),
    #[hash]
    #[default]
    pub scores: IndexMap<String, Vec<i64>>,
    #[hash]
    #[default]
    pub opt: Option<i64>,
    #[hash]
    #[default]
    pub flag: bool,
    #[hash]
    #[default(BigInt::from(0))]
    pub big: BigInt,
    #[hash]
    #[default]
    pub umax: u64,
    #[hash]
    #[default]
    pub inner: Inner,
    #[hash]
    #[default]
    pub inners: Vec<Inner>,
    #[hash]
    #[default]
    pub anything: Value,
    #[hash]
    #[default]
    pub text: String,
}

#[axon::synapse]
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    #[hash]
    #[default(0.1)]
    pub a: f64,
    #[hash]
    #[default(1e16)]
    pub b: f64,
    #[hash]
    #[default(1e-7)]
    pub c: f64,
    #[hash]
    #[default(-0.0)]
    pub d: f64,
    #[hash]
    #[default(1.5e300)]
    pub e: f64,
    #[hash]
    #[default(vec![1e-5, 1e-4, 123456789.125, 2.5e-05])]
    pub g: Vec<f64>,
}

/// A Rust name for the Python class `TextGen`, hashing in an order of its own.
#[axon::synapse(name = "TextGen", hash_fields = ["n", "text"])]
#[derive(Debug, Clone, PartialEq)]
pub struct TextGenSynapse {
    #[default]
    pub text: String,
    #[default]
    pub n: i64,
}

#[axon::synapse]
#[derive(Debug, Clone, PartialEq)]
pub struct Required {
    #[hash]
    pub s: String,
    #[hash]
    pub i: i64,
    #[hash]
    pub f: f64,
    #[hash]
    pub b: bool,
    #[hash]
    pub l: Vec<i64>,
    #[hash]
    pub d: IndexMap<String, i64>,
    #[hash]
    pub m: Inner,
    #[hash]
    pub o: Option<String>,
}

fn map<K: Into<String>, V>(entries: impl IntoIterator<Item = (K, V)>) -> IndexMap<String, V> {
    entries.into_iter().map(|(k, v)| (k.into(), v)).collect()
}

fn s(text: &str) -> String {
    text.to_owned()
}

/// The Rust value for each id of `values()` in golden.py, rendered with `PyStr`.
fn rust_values() -> Vec<(&'static str, String)> {
    let inner = |a, b: &str| Inner { a, b: s(b) };
    let mut int_keys = IndexMap::new();
    int_keys.insert(1i64, s("a"));
    int_keys.insert(2i64, s("b"));
    let v = |x: &dyn PyStr| x.to_py_str();
    vec![
        ("str_plain", v(&"hello")),
        ("str_empty", v(&"")),
        ("str_unicode", v(&"héllo wörld 😀 中文")),
        ("str_quote", v(&"it's")),
        ("list_quotes", v(&vec!["it's", "say \"hi\"", "both ' \"", "none"])),
        ("list_escapes", v(&vec!["a\nb", "tab\t", "back\\slash", "\r", "\x00\x1f\x7f", "\x1b[0m"])),
        (
            "list_unicode",
            v(&vec![
                "é", "\u{a0}", "\u{ad}", "\u{200b}", "\u{2028}", "\u{3000}", "\u{feff}", "😀", "\u{10ffff}", "\u{378}",
                "\u{e0001}",
            ]),
        ),
        ("int_zero", v(&0u8)),
        ("int_neg", v(&-42i32)),
        ("i64_max", v(&i64::MAX)),
        ("i64_min", v(&i64::MIN)),
        ("u64_max", v(&u64::MAX)),
        ("i128_min", v(&i128::MIN)),
        ("u128_max", v(&u128::MAX)),
        ("big_pos", v(&"1606938044258990275541962092341162602522202993782792835301376".parse::<BigInt>().unwrap())),
        (
            "big_neg",
            v(&"-2037035976334486086268445688409378161051468393665936250636140449354381299763336706183397383"
                .parse::<BigInt>()
                .unwrap()),
        ),
        ("two53_plus_1", v(&9007199254740993i64)),
        ("f_0_1", v(&0.1f64)),
        ("f_1_0", v(&1.0f64)),
        ("f_neg_zero", v(&-0.0f64)),
        ("f_1e16", v(&1e16f64)),
        ("f_1e15", v(&1e15f64)),
        ("f_1e_7", v(&1e-7f64)),
        ("f_1e_5", v(&1e-5f64)),
        ("f_1e_4", v(&1e-4f64)),
        ("f_1_5e300", v(&1.5e300f64)),
        ("f_min_sub", v(&5e-324f64)),
        ("f_third", v(&(1.0f64 / 3.0))),
        ("f_2_53_plus_2", v(&(2f64.powi(53) + 2.0))),
        ("f_inf", v(&f64::INFINITY)),
        ("f_neg_inf", v(&f64::NEG_INFINITY)),
        ("f_nan", v(&f64::NAN)),
        ("f32_0_1", v(&0.1f32)),
        ("bool_true", v(&true)),
        ("bool_false", v(&false)),
        ("none", v(&None::<i64>)),
        ("list_ints", v(&vec![1, 2, 3])),
        ("list_empty", v(&Vec::<i64>::new())),
        ("list_nested", v(&json!([[1, [2, []]], []]))),
        ("list_floats", v(&[0.1, 1e16, -0.0, 1e-7])),
        ("list_optional", v(&vec![None, Some("x")])),
        ("tuple_one", v(&(1,))),
        ("tuple_mixed", v(&(1, "a", 2.0, None::<i64>, true))),
        ("list_tuples", v(&vec![("a", 0.1), ("it's", -1.5)])),
        ("dict_simple", v(&map([("k", vec![1, 2])]))),
        ("dict_empty", v(&IndexMap::<String, i64>::new())),
        ("dict_order", v(&map([("z", 1), ("a", 2), ("m", 3)]))),
        ("dict_nested", v(&json!({"a": {"b": {"c": [1, {"d": null}]}}}))),
        ("dict_int_keys", v(&int_keys)),
        ("json_value", v(&json!({"a": [1, 1.5, "x", null, true, {"b": []}], "c": "it's"}))),
        ("model", v(&inner(2, "it's"))),
        ("list_models", v(&vec![Inner::default(), inner(-1, "\n")])),
    ]
}

#[test]
fn python_str_of_values_matches() {
    let py = golden()["values"].as_object().unwrap();
    let rust = rust_values();
    let rust_ids: BTreeSet<&str> = rust.iter().map(|(id, _)| *id).collect();
    let py_ids: BTreeSet<&str> = py.keys().map(String::as_str).collect();
    assert_eq!(
        rust_ids, py_ids,
        "golden.py and golden.rs must define the same value ids"
    );
    assert!(rust.len() >= 40);
    let mismatches: Vec<String> = rust
        .iter()
        .filter(|(id, text)| py[*id]["str"] != *text)
        .map(|(id, text)| format!("{id}: rust {text:?} != python {}", py[*id]["str"]))
        .collect();
    assert!(
        mismatches.is_empty(),
        "str() mismatches:\n{}",
        mismatches.join("\n")
    );
    // and as the body hash of a synapse with that one hashed field
    for (id, text) in &rust {
        let mut h = axon::wire::BodyHasher::new();
        h.field(text.as_str());
        assert_eq!(
            h.finish(),
            py[*id]["hash"].as_str().unwrap(),
            "{id}: one-field body hash"
        );
    }
}

/// Compares headers by name and order; values too, except the informational sizes.
fn assert_headers(id: &str, rust: &axon::wire::Headers, python: &Value, exact_total_size: bool) {
    let py: Vec<(&str, &str)> = python
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap(), p[1].as_str().unwrap()))
        .collect();
    let rs: Vec<(&str, &str)> = rust.iter().collect();
    let names = |h: &[(&str, &str)]| h.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>();
    assert_eq!(names(&rs), names(&py), "{id}: header names and order");
    for ((name, rv), (_, pv)) in rs.iter().zip(&py) {
        match *name {
            "header_size" => assert!(rv.parse::<u64>().is_ok(), "{id}: header_size {rv}"),
            "total_size" if !exact_total_size => {
                assert!(rv.parse::<u64>().is_ok(), "{id}: total_size {rv}")
            }
            _ => assert_eq!(rv, pv, "{id}: header {name}"),
        }
    }
}

fn check<S: Synapse + PartialEq + Debug>(id: &str, native: S) {
    let g = &golden()["synapses"][id];
    assert!(g.is_object(), "golden.py has no synapse case {id}");
    assert_eq!(g["class"], S::NAME, "{id}: route name");

    // A synapse built in Rust writes what pydantic writes, and hashes as Python hashes.
    let json = String::from_utf8(native.to_json().unwrap()).unwrap();
    assert_eq!(
        json,
        g["json_fresh"].as_str().unwrap(),
        "{id}: model_dump_json"
    );
    assert_eq!(
        native.body_hash(),
        g["body_hash"].as_str().unwrap(),
        "{id}: body_hash"
    );
    assert_headers(id, &native.to_headers(), &g["headers"], false);

    // Python dendrite body -> Rust synapse -> Rust body, hash and headers equal Python's.
    let parsed = S::from_json(g["dendrite_body"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(
        String::from_utf8(parsed.to_json().unwrap()).unwrap(),
        g["json_after"].as_str().unwrap(),
        "{id}: body"
    );
    assert_eq!(
        parsed.body_hash(),
        g["body_hash"].as_str().unwrap(),
        "{id}: body_hash after parse"
    );
    assert_headers(id, &parsed.to_headers(), &g["headers"], true);

    // Python headers -> Rust synapse equals Python's from_headers().
    let pairs: Vec<(String, String)> = g["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_owned(),
                p[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let parts =
        HeaderParts::from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))).unwrap();
    let from_headers = S::from_header_parts(parts).unwrap();
    match g["from_headers_json"].as_str() {
        Some(py) => {
            assert_eq!(
                String::from_utf8(from_headers.to_json().unwrap()).unwrap(),
                py,
                "{id}: from_headers"
            )
        }
        // Python's own axon cannot read these headers (a required Optional field sent as
        // None has no header); ours reads the field as None.
        None => assert_eq!(g["from_headers_error"], "ValidationError", "{id}"),
    }
    // Rust headers -> http::HeaderMap -> Rust synapse: the same placeholders and terminals.
    let map = parsed.to_headers().to_header_map().unwrap();
    let again = S::from_headers(&map).unwrap();
    assert_eq!(
        again.common().computed_body_hash.as_deref(),
        Some(g["body_hash"].as_str().unwrap()),
        "{id}"
    );
    assert_eq!(
        again.body_hash(),
        from_headers.body_hash(),
        "{id}: placeholders"
    );
    assert_eq!(
        again.common().dendrite,
        from_headers.common().dendrite,
        "{id}: dendrite"
    );
    assert_eq!(
        again.common().axon,
        from_headers.common().axon,
        "{id}: axon"
    );
}

/// Python: `class Slow(bt.Synapse): timeout: float = 60.0; text: str = ""`.
#[axon::synapse(timeout = 60.0)]
#[derive(Debug, Clone, PartialEq)]
pub struct Slow {
    #[hash]
    #[default]
    pub text: String,
}

/// A subclass's own default timeout fills a body without one, as pydantic's does; the
/// headers' absent timeout stays `None`, as Python's `parse_headers_to_inputs` reads it.
#[test]
fn a_declared_default_timeout_fills_what_python_fills() {
    let python = &golden()["slow_defaults"];
    let from_json = Slow::from_json(br#"{"text": "y"}"#).unwrap();
    assert_eq!(from_json.timeout, python["json_without_timeout"].as_f64());
    assert_eq!(from_json.timeout, Some(60.0));
    let mut map = Slow::default().to_headers().to_header_map().unwrap();
    map.remove("timeout");
    assert!(python["header_inputs_timeout"].is_null(), "{python}");
    assert_eq!(Slow::from_headers(&map).unwrap().timeout, None);
}

/// A synapse case: its id and the check that builds and compares it.
type Case = (&'static str, Box<dyn Fn(&'static str)>);

fn synapse_cases() -> Vec<Case> {
    fn case<S: Synapse + PartialEq + Debug>(
        id: &'static str,
        make: fn() -> S,
    ) -> (&'static str, Box<dyn Fn(&'static str)>) {
        (id, Box::new(move |id| check(id, make())))
    }
    vec![
        case("echo", || Echo::new(s("hello world"), 3)),
        case("echo_unicode", || Echo {
            out: Some(s("done")),
            ..Echo::new(s("¿Qué tal? 😀 \"quoted\" it's\n\ttabbed"), -12)
        }),
        case("bittensor_vector", || TestSynapse {
            b: Some(2),
            c: Some(3),
            d: Some(vec![s("foobar")]),
            ..TestSynapse::new(1)
        }),
        case("kitchen", || Kitchen {
            f: 0.1,
            floats: vec![1e16, 1e-7, -0.0, 1.5e300, 1.0],
            pair: (9007199254740993, s("it's")),
            scores: map([
                ("zeta", vec![3, 1]),
                ("alpha", vec![]),
                ("mid", vec![1 << 62]),
            ]),
            opt: None,
            flag: true,
            big: "1606938044258990275541962092341162602522202993782792835301376"
                .parse()
                .unwrap(),
            umax: u64::MAX,
            inner: Inner {
                a: 5,
                b: s("nested 'q'"),
            },
            inners: vec![
                Inner::default(),
                Inner {
                    a: -1, b: s("é\n")
                },
            ],
            anything: json!({"k": [1, 2.5, null, "s", {"deep": [true, false]}], "a": 1e-5}),
            text: s("kitchen sink"),
            ..Kitchen::default()
        }),
        case("kitchen_empty", Kitchen::default),
        case("scores", Scores::default),
        case("textgen", || TextGenSynapse {
            text: s("reversed order"),
            n: 42,
            ..Default::default()
        }),
        case("required", || {
            Required::new(
                s("s"),
                1,
                2.5,
                true,
                vec![1, 2],
                map([("x", 1)]),
                Inner {
                    a: 3,
                    ..Inner::default()
                },
                None,
            )
        }),
        case("required_some", || {
            Required::new(
                s(""),
                0,
                0.0,
                false,
                vec![],
                IndexMap::new(),
                Inner::default(),
                Some(s("present")),
            )
        }),
        case("terminal", || {
            let mut e = Echo {
                out: Some(s("ok")),
                ..Echo::new(s("with terminals"), 7)
            };
            e.dendrite = axon::TerminalInfo {
                ip: Some(s("127.0.0.1")),
                port: Some(50123),
                version: Some(10005000),
                nonce: Some(1763769600123456789),
                uuid: Some(s("5ecbd69c-1cec-11ee-b0dc-e29ce36fec1a")),
                hotkey: Some(s("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY")),
                signature: Some(format!("0x{}", "ab".repeat(64))),
                ..Default::default()
            };
            e.axon = axon::TerminalInfo {
                status_code: Some(200),
                status_message: Some(s("Success")),
                process_time: Some(0.123),
                hotkey: Some(s("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty")),
                ..Default::default()
            };
            e
        }),
        case("base", axon::BaseSynapse::default),
        case("slow", || Slow {
            text: s("a subclass's own default timeout"),
            ..Slow::default()
        }),
    ]
}

#[test]
fn synapses_match_python_both_ways() {
    let cases = synapse_cases();
    let rust_ids: BTreeSet<&str> = cases.iter().map(|(id, _)| *id).collect();
    let py_ids: BTreeSet<&str> = golden()["synapses"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        rust_ids, py_ids,
        "golden.py and golden.rs must define the same synapse ids"
    );
    for (id, run) in cases {
        run(id);
    }
}

#[test]
fn bittensor_own_vector_holds() {
    let t = TestSynapse {
        b: Some(2),
        c: Some(3),
        d: Some(vec![s("foobar")]),
        ..TestSynapse::new(1)
    };
    assert_eq!(
        t.body_hash(),
        "ae06397d08f30f75c91395c59f05c62ac3b62b88250eb78b109213258e6ced0c"
    );
    assert_eq!(
        golden()["synapses"]["bittensor_vector"]["body_hash"],
        t.body_hash()
    );
}

#[test]
fn repr_escapes_exactly_what_python_escapes() {
    let py = &golden()["nonprintable"];
    assert_eq!(golden()["unicode_version"], axon::wire::PY_UNICODE_VERSION);
    let mut ranges: Vec<Value> = Vec::new();
    let mut start: Option<u32> = None;
    let mut out = String::new();
    for cp in 0x80..=0x10FFFFu32 {
        let escaped = match char::from_u32(cp) {
            Some(c) => {
                out.clear();
                let mut buf = [0u8; 4];
                axon::wire::repr_str(c.encode_utf8(&mut buf), &mut out);
                out.contains('\\')
            }
            None => true, // surrogates: Python escapes them; Rust strings cannot hold them
        };
        match (escaped, start) {
            (true, None) => start = Some(cp),
            (false, Some(s0)) => {
                ranges.push(json!([s0, cp - 1]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s0) = start {
        ranges.push(json!([s0, 0x10FFFF]));
    }
    assert_eq!(&Value::Array(ranges), py);
}

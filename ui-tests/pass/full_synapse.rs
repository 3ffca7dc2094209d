use axon::wire::BigInt;
use axon::Synapse;
use indexmap::IndexMap;

#[axon::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Inner {
    #[default(1)]
    pub a: i64,
}

/// Every supported shape: required and defaulted fields, a raw identifier, nested models.
#[axon::synapse(name = "Everything")]
#[derive(Debug, Clone, PartialEq)]
pub struct EverythingSynapse {
    #[hash]
    pub text: String,
    #[hash]
    pub r#type: u8,
    #[hash]
    #[default]
    pub scores: IndexMap<String, Vec<f32>>,
    #[hash]
    #[default(BigInt::from(1u128 << 100))]
    pub big: BigInt,
    #[hash]
    #[default]
    pub inner: Inner,
    #[default]
    pub pair: (i64, Option<String>),
    #[default]
    pub value: serde_json::Value,
}

#[axon::synapse]
pub struct Empty {}

fn main() {
    let s = EverythingSynapse::new("t".into(), 1);
    assert_eq!(EverythingSynapse::NAME, "Everything");
    assert_eq!(EverythingSynapse::REQUIRED_FIELDS, ["text", "type"]);
    assert_eq!(s.to_headers().get("bt_header_input_obj_type"), Some("MA=="));
    let _ = Empty::default().body_hash();
}

//! Run-time synapses (`SynapseSchema`, `DynamicSynapse`) served to the real Python
//! `bittensor.Dendrite` 10.5.0 (`tests/python/dynamic.py`): an axon serving `Compute`
//! declared at run time answers exactly as one serving the `#[synapse]` struct of the same
//! name and fields, refusals included.

mod support;

use axon::keys::Keypair;
use axon::{Axon, DynamicSynapse, SynapseSchema};
use indexmap::IndexMap;
use serde_json::{json, Value};

#[axon::model]
#[derive(Debug, Clone)]
pub struct Meta {
    #[default]
    pub label: String,
    #[default]
    pub score: f64,
    #[default]
    pub tags: Vec<String>,
}

#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Compute {
    #[hash]
    pub values: Vec<f64>,
    #[hash]
    pub weights: IndexMap<String, f64>,
    #[default]
    pub meta: Option<Meta>,
    #[default(1)]
    pub scale: i64,
    #[default]
    pub total: Option<f64>,
}

/// The compiled forward: `total = scale * sum(values) + sum(weights)`, the label upper-cased.
fn compute(mut s: Compute) -> Compute {
    // Summed from 0.0 as Python's `sum` is (Rust's `Sum` for floats starts at -0.0).
    let sum = |v: &mut dyn Iterator<Item = &f64>| v.fold(0.0, |a, b| a + b);
    let total = s.scale as f64 * sum(&mut s.values.iter()) + sum(&mut s.weights.values());
    s.total = Some(total);
    if let Some(meta) = &mut s.meta {
        meta.label = meta.label.to_uppercase();
    }
    s
}

/// The same forward over JSON values.
fn compute_dynamic(mut s: DynamicSynapse) -> DynamicSynapse {
    let sum =
        |v: &mut dyn Iterator<Item = &Value>| v.fold(0.0, |a, b| a + b.as_f64().unwrap_or(0.0));
    let values = s
        .get("values")
        .and_then(Value::as_array)
        .map_or(0.0, |v| sum(&mut v.iter()));
    let weights = s
        .get("weights")
        .and_then(Value::as_object)
        .map_or(0.0, |w| sum(&mut w.values()));
    let scale = s.get("scale").and_then(Value::as_i64).unwrap_or(1);
    s.set("total", json!(scale as f64 * values + weights))
        .unwrap();
    if let Some(Value::Object(mut meta)) = s.get("meta").cloned() {
        if let Some(Value::String(label)) = meta.get("label") {
            let upper = label.to_uppercase();
            meta.insert("label".into(), json!(upper));
        }
        s.set("meta", Value::Object(meta)).unwrap();
    }
    s
}

fn schema() -> SynapseSchema {
    SynapseSchema::builder("Compute")
        .required("values")
        .required("weights")
        .default("meta", Value::Null)
        .default("scale", json!(1))
        .default("total", Value::Null)
        .hash(["values", "weights"])
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_time_synapse_answers_the_python_dendrite_as_the_compiled_one() {
    let alice = Keypair::from_uri("//Alice").unwrap();
    let start = |axon: Axon| {
        let alice = alice.clone();
        async move {
            let mut axon = axon.hotkey(alice).ip("127.0.0.1").port(0);
            axon.start().await.unwrap();
            axon
        }
    };
    let compiled = start(Axon::new().attach(compute)).await;
    let dynamic = start(Axon::new().attach_dynamic(&schema(), compute_dynamic)).await;
    let arg = json!({
        "compiled": compiled.local_addr().unwrap().port(),
        "dynamic": dynamic.local_addr().unwrap().port(),
        "hotkey": alice.ss58(),
    })
    .to_string();
    let stdout =
        tokio::task::spawn_blocking(move || support::run_python_script_with("dynamic.py", &[&arg]))
            .await
            .unwrap();
    let out = support::result_line(&stdout);
    let (by_compiled, by_dynamic) = (&out["axons"]["compiled"], &out["axons"]["dynamic"]);

    // Both answer every case the same, as the validator's code sees it (the refusal of a
    // body without a required field is checked below: the compiled one also gives the
    // position in the JSON).
    let without = |seen: &Value| {
        let mut seen = seen.clone();
        seen.as_object_mut().unwrap().remove("missing");
        seen
    };
    assert_eq!(without(by_dynamic), without(by_compiled));
    for case in ["values", "defaults"] {
        let seen = &by_dynamic[case];
        assert_eq!(
            (&seen["status"], &seen["message"]),
            (&json!(200), &json!("Success")),
            "{case}: {seen}"
        );
        assert_eq!(seen["total"], out["expected"][case]["total"], "{case}");
        assert_eq!(seen["axon_hotkey"], alice.ss58());
        assert_eq!(seen["signature_valid"], true);
    }
    assert_eq!(
        by_dynamic["values"]["meta"]["label"],
        out["expected"]["values"]["label"]
    );
    assert_eq!(by_dynamic["values"]["weights"], json!({"a": 0.5, "é": 2.0}));

    // Refused alike: a body that is not the one signed, a body without a required field.
    let tampered = &by_dynamic["tampered"];
    assert_eq!(tampered["status"], 400);
    let message = tampered["message"].as_str().unwrap();
    assert!(message.starts_with("body hash mismatch"), "{message}");
    let refused = "Could not parse the body as synapse Compute: invalid synapse JSON: missing field `weights`";
    let missing = &by_dynamic["missing"];
    assert_eq!(
        (&missing["status"], &missing["message"]),
        (&json!(400), &json!(refused))
    );
    assert_eq!(by_compiled["missing"]["status"], 400);
    let compiled_message = by_compiled["missing"]["message"].as_str().unwrap();
    assert!(compiled_message.starts_with(refused), "{compiled_message}");
}

#[test]
fn a_run_time_type_named_as_a_compiled_one_is_a_startup_problem() {
    let err = Axon::new()
        .attach(compute)
        .attach_dynamic(&schema(), compute_dynamic)
        .handlers()
        .unwrap_err();
    assert_eq!(err.problems().len(), 1, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("dynamic::Compute") && text.contains("DynamicSynapse"),
        "{text}"
    );
}

#[tokio::test]
async fn the_table_runs_a_run_time_types_handlers_in_process() {
    let schema = schema();
    let handlers = Axon::new()
        .attach_dynamic(&schema, compute_dynamic)
        .blacklist_dynamic(&schema, |s: &DynamicSynapse| {
            (s.get("scale") == Some(&json!(0)), "scale 0".to_string())
        })
        .priority_dynamic(&schema, |s: &DynamicSynapse| {
            s.get("scale").and_then(Value::as_f64).unwrap_or(0.0)
        })
        .handlers()
        .unwrap();
    let route = handlers.route("Compute").unwrap();
    assert!(route.blacklist.is_some() && route.priority.is_some() && route.verify.is_none());
    let mut s = DynamicSynapse::new(&schema);
    s.set("values", json!([1.0, 2.0])).unwrap();
    s.set("weights", json!({"w": 0.5})).unwrap();
    s.set("scale", json!(0)).unwrap();
    assert_eq!(
        handlers.blacklist(&s).await,
        axon::Blacklist::Deny("scale 0".into())
    );
    s.set("scale", json!(2)).unwrap();
    assert_eq!(handlers.priority(&s).await, Some(2.0));
    let out = handlers.forward(s).await.unwrap();
    assert_eq!(out.get("total"), Some(&json!(6.5)));
    // Another run-time type of the same shape but another name is not served.
    let other = SynapseSchema::builder("Other").build().unwrap();
    let err = handlers
        .forward(DynamicSynapse::new(&other))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 404);
}

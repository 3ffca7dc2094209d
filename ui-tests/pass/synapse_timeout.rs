use axon::Synapse;

/// Python: `class Slow(bt.Synapse): timeout: float = 60.0; text: str`.
#[axon::synapse(timeout = 60.0)]
pub struct Slow {
    #[hash]
    pub text: String,
}

/// Python: `class Whole(bt.Synapse): timeout: int = 30`.
#[axon::synapse(timeout = 30)]
pub struct Whole {
    #[default]
    pub text: String,
}

fn main() {
    let slow = Slow::new("x".into());
    assert_eq!(slow.timeout, Some(60.0));
    assert_eq!(Whole::default().timeout, Some(30.0));
    // A body without a timeout takes the default (tests/golden.rs compares with Python).
    let parsed = Slow::from_json(br#"{"text": "y"}"#).unwrap();
    assert_eq!(parsed.timeout, Some(60.0));
}

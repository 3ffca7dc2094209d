// Three mistakes, three messages: a derived `Serialize`, a route name that is not a Python
// class name and a field `#[serde]`, with no conflicting-impl error after them; the synapse
// stays usable.
#[axon::synapse(name = "1Echo")]
#[derive(Debug, serde::Serialize)]
pub struct Echo {
    #[hash]
    pub text: String,
    #[serde(default)]
    pub n: i64,
}

#[axon::forward]
fn echo(s: Echo) -> Echo {
    s
}

fn main() {
    let _ = Echo::new("hi".into(), 1);
}

// One mistake, one message: a `#[hash]` on a model field is reported, and the synapse that
// holds the model still compiles against it.
#[axon::model]
pub struct Inner {
    #[hash]
    #[default]
    pub a: i64,
}

#[axon::synapse]
pub struct Outer {
    #[hash]
    pub inner: Inner,
}

fn main() {
    let _ = Outer::new(Inner::new());
}

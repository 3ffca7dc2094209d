fn route<S: axon::Synapse>() -> &'static str {
    S::NAME
}

pub struct Plain {
    pub text: String,
}

fn main() {
    route::<Plain>();
}

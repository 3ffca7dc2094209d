// Every mistake in the attribute and the signature, reported at once.
#[axon::endpoint(post "v1/score", auth = ecdsa, timeout = 0, max_body = 1.5, retries = 3)]
unsafe fn score<T>(model: &Model) -> &'static str {
    "no"
}

pub struct Model;

fn main() {}

// An argument that axum cannot read from the request's head, then a body that is not an
// extractor: each reported at its type.
pub struct Model;

#[axon::endpoint(POST "/v1/score")]
async fn score(model: Model, body: Vec<u8>) -> String {
    let _ = (model, body);
    String::new()
}

fn main() {}

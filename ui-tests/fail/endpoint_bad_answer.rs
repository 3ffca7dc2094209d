// An answer axum cannot send.
pub struct Score(f64);

#[axon::endpoint(POST "/v1/score")]
async fn score(body: String) -> Score {
    Score(body.len() as f64)
}

fn main() {}

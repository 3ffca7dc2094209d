// A blacklist that does not take the caller.
#[axon::endpoint(POST "/v1/score", blacklist = by_length)]
async fn score(body: String) -> String {
    body
}

fn by_length(text: &str) -> bool {
    text.is_empty()
}

fn main() {}

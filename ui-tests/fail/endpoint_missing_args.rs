// No method and path.
#[axon::endpoint]
async fn score(body: String) -> String {
    body
}

fn main() {}

// The senders' crypto types an endpoint accepts: named ones only, and never ed25519 alone
// where only Epistula (sr25519) is accepted.
#[axon::endpoint(POST "/v1/a", crypto = rsa)]
async fn a() -> String {
    "a".into()
}

#[axon::endpoint(POST "/v1/b", auth = epistula, crypto = ed25519)]
async fn b() -> String {
    "b".into()
}

fn main() {}

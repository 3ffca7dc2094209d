// Every form an endpoint may take: extractors of the head and the body, state, the caller,
// policies with state, options, and any answer.
use axon::auth::Caller;
use axon::{Axon, Blacklist, HandlerError, State};
use axum::body::Bytes;
use axum::extract::Query;
use axum::http::HeaderMap;
use axum::Json;
use std::collections::HashMap;

#[derive(serde::Deserialize)]
pub struct Ask {
    pub text: String,
}

pub struct Model {
    pub bias: usize,
}

pub struct Allowed(Vec<String>);

#[axon::endpoint(POST "/v1/score", auth = [btauth, epistula], timeout = 2.5, max_body = 4096,
                 blacklist = allowed, priority = by_key)]
async fn score(caller: Caller, model: State<Model>, headers: HeaderMap, Json(ask): Json<Ask>) -> Json<usize> {
    let _ = (caller, headers);
    Json(ask.text.len() + model.bias)
}

#[axon::endpoint(GET "/v1/health", auth = btauth, unbound)]
async fn health(Query(q): Query<HashMap<String, String>>) -> Result<String, HandlerError> {
    Ok(format!("{}", q.len()))
}

#[axon::endpoint(PUT "/v1/raw", auth = epistula)]
async fn raw(body: Bytes) -> (axum::http::StatusCode, Bytes) {
    (axum::http::StatusCode::ACCEPTED, body)
}

#[axon::endpoint(DELETE "/v1/nothing")]
async fn nothing() {}

fn allowed(caller: &Caller, allowed: &Allowed) -> Blacklist {
    match allowed.0.contains(&caller.hotkey) {
        true => Blacklist::Allow,
        false => Blacklist::Deny("Unrecognized hotkey".into()),
    }
}

fn by_key(caller: &Caller) -> f64 {
    caller.hotkey.len() as f64
}

fn main() {
    let handlers = Axon::from_registry()
        .state(Model { bias: 1 })
        .state(Allowed(Vec::new()))
        .handlers()
        .unwrap();
    assert_eq!(handlers.endpoints().len(), 4);
}

//! Stage 9: the response. A served synapse is its JSON body with its headers; a refusal
//! is Python's `{"message": ...}` body with the request synapse's headers. Both carry the
//! axon's status code, message and process time in `bt_header_axon_*`.

use super::preprocess::Identity;
use super::refusal::Refusal;
use crate::wire::{to_json_sized, BodyHasher, HashMemo, Headers};
use crate::Synapse;
use axum::body::Body;
use axum::body::Bytes;
use axum::response::Response;
use http::{header, HeaderName, HeaderValue, StatusCode};
use std::borrow::Cow;
use std::time::Instant;

/// The answer to a served request: status 200 `Success`, the returned synapse as JSON,
/// and the axon's terminal (nonce, uuid, version, hotkey, signature) really delivered, in
/// the body and in the headers. The returned synapse's `dendrite` and `axon` are the
/// request's: a handler cannot misreport who called and who answered.
///
/// `memo` is the request's hashed fields: the answer's `computed_body_hash` header reuses
/// their digests where the handler left them unchanged. `request_len`, the request body's
/// size, sizes the answer's buffer.
pub(crate) fn success<S: Synapse>(
    mut out: S,
    mut request: S,
    memo: HashMemo,
    request_len: usize,
    identity: &Identity,
    start: Instant,
) -> Response {
    answering(&mut out, &request, identity, start);
    let hash = match out.own_body_hash() {
        Some(own) => own,
        None => {
            let mut hasher = BodyHasher::replaying(memo);
            out.hash_fields(&mut hasher);
            Ok(hasher.finish())
        }
    };
    let body = to_json_sized(&out, 2 * request_len + 1024).map_err(|e| e.to_string());
    match (body, hash) {
        (Ok(body), Ok(hash)) => build(StatusCode::OK, out.to_headers_with_hash(hash), body),
        (Err(e), _) | (_, Err(e)) => {
            let refusal = Refusal::internal(format!("the returned synapse cannot be sent: {e}"));
            refused(&mut request, &refusal, Some(identity), start)
        }
    }
}

/// Makes `out` the answer to `request`: the request's terminals (a handler cannot
/// misreport who called and who answered), status 200 `Success`, the process time so far,
/// and the axon's signature.
pub(crate) fn answering<S: Synapse>(out: &mut S, request: &S, identity: &Identity, start: Instant) {
    let from = request.common();
    let c = out.common_mut();
    *c.dendrite = from.dendrite.clone();
    *c.axon = from.axon.clone();
    c.axon.status_code = Some(200);
    c.axon.status_message = Some("Success".into());
    c.axon.process_time = Some(start.elapsed().as_secs_f64());
    identity.sign(out);
}

/// The answer to a refused request: `refusal.status` with `{"message": ...}`, and the
/// request synapse's headers with `bt_header_axon_status_code`/`_message` set.
///
/// `signer` signs the axon terminal; it is given only once the request was verified, so
/// unauthenticated traffic cannot make the axon spend a signature.
pub(crate) fn refused<S: Synapse>(
    synapse: &mut S,
    refusal: &Refusal,
    signer: Option<&Identity>,
    start: Instant,
) -> Response {
    let c = synapse.common_mut();
    c.axon.status_code = Some(i64::from(refusal.status.as_u16()));
    c.axon.status_message = Some(refusal.message.clone());
    c.axon.process_time = Some(start.elapsed().as_secs_f64());
    if let Some(identity) = signer {
        identity.sign(synapse);
    }
    let body = serde_json::json!({ "message": refusal.message }).to_string();
    build(refusal.status, synapse.to_headers(), body.into_bytes())
}

/// A JSON response with the synapse headers.
fn build(status: StatusCode, headers: Headers, body: Vec<u8>) -> Response {
    with_headers(status, "application/json", headers, Body::from(body))
}

/// A response of `content_type` with the synapse headers, taken without copying them. A
/// header value HTTP cannot carry (a control character in a status message) is sent with
/// those characters replaced by spaces; a JSON body keeps the exact text.
pub(crate) fn with_headers(
    status: StatusCode,
    content_type: &'static str,
    headers: Headers,
    body: Body,
) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let map = response.headers_mut();
    map.reserve(headers.len() + 1);
    map.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in headers {
        if let Some(name) = header_name(name) {
            map.append(name, sendable(value));
        }
    }
    response
}

/// The header name, without a copy when it is a lowercase constant (as every synapse
/// header name is); `None` when it is not a valid name.
fn header_name(name: Cow<'static, str>) -> Option<HeaderName> {
    match name {
        Cow::Borrowed(s) if !s.is_empty() && s.bytes().all(is_lowercase_token) => {
            Some(HeaderName::from_static(s))
        }
        name => HeaderName::from_bytes(name.as_bytes()).ok(),
    }
}

/// A byte `HeaderName::from_static` accepts as is.
fn is_lowercase_token(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-')
}

/// `value` as a header value (without a copy), control characters replaced by spaces.
pub(crate) fn sendable(value: String) -> HeaderValue {
    let control = |b: u8| (b < 0x20 && b != b'\t') || b == 0x7f;
    let mut bytes = value.into_bytes();
    for b in bytes.iter_mut().filter(|b| control(**b)) {
        *b = b' ';
    }
    HeaderValue::from_maybe_shared(Bytes::from(bytes))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keypair;
    use crate::metrics::Reason;
    use crate::BaseSynapse;

    #[test]
    fn control_characters_in_a_message_become_spaces_in_its_header_only() {
        let mut synapse = BaseSynapse::default();
        let message = "bad\r\nset-cookie: x\u{7f}\ttab";
        let refusal = Refusal::new(Reason::BadHeaders, StatusCode::BAD_REQUEST, message);
        let response = refused(&mut synapse, &refusal, None, Instant::now());
        assert_eq!(
            response.headers()["bt_header_axon_status_message"],
            "bad  set-cookie: x \ttab"
        );
        assert!(response.headers().get("set-cookie").is_none());
    }

    async fn body_of(r: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_refusal_is_the_message_plus_status_headers() {
        let mut s = BaseSynapse::default();
        let refusal = Refusal::new(
            Reason::Blacklisted,
            StatusCode::FORBIDDEN,
            "Forbidden. Key is blacklisted: no\nnewlines.",
        );
        let r = refused(&mut s, &refusal, None, Instant::now());
        assert_eq!(r.status(), 403);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.headers()["bt_header_axon_status_code"], "403");
        assert_eq!(
            r.headers()["bt_header_axon_status_message"],
            "Forbidden. Key is blacklisted: no newlines."
        );
        assert!(r.headers().get("bt_header_axon_signature").is_none());
        assert_eq!(
            body_of(r).await,
            serde_json::json!({"message": "Forbidden. Key is blacklisted: no\nnewlines."})
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_success_carries_the_signed_axon_terminal() {
        let id = Identity::new(Keypair::from_uri("//Bob").unwrap());
        let mut request = BaseSynapse::default();
        id.stamp(&mut request, "127.0.0.1:5000".parse().unwrap());
        let mut out = request.clone();
        out.axon.hotkey = Some("a lie".into());
        let memo = {
            let mut h = BodyHasher::recording();
            request.hash_fields(&mut h);
            h.finish_recorded().1
        };
        let r = success(out, request, memo, 0, &id, Instant::now());
        assert_eq!(r.status(), 200);
        let h = r.headers().clone();
        assert_eq!(h["bt_header_axon_status_code"], "200");
        assert_eq!(h["bt_header_axon_status_message"], "Success");
        assert_eq!(h["bt_header_axon_hotkey"], id.hotkey());
        assert_eq!(h["bt_header_axon_uuid"], id.uuid());
        assert!(h["bt_header_axon_signature"]
            .to_str()
            .unwrap()
            .starts_with("0x"));
        assert!(h.contains_key("bt_header_axon_process_time"));
        let body = body_of(r).await;
        assert_eq!(body["axon"]["hotkey"], id.hotkey());
        assert_eq!(body["dendrite"]["ip"], "127.0.0.1");
    }
}

//! Stage 7: read the body (bounded), parse it as the synapse (400), and check it against
//! the body hash the dendrite signed (400 `body hash mismatch`).

use super::refusal::Refusal;
use crate::metrics::Reason;
use crate::wire::{nested_deeper_than, BodyHasher, HashMemo};
use crate::Synapse;
use axum::body::{Body, Bytes};
use http::{header, HeaderMap, StatusCode};

/// Reads at most `limit` bytes of body: 413 when the declared length or the bytes sent
/// exceed it (nothing past the limit is read), 400 when the body cannot be read.
pub(crate) async fn read(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, Refusal> {
    check_declared(headers, limit)?;
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|e| unreadable(e, limit))
}

/// 413 when the declared length exceeds `limit`, before anything is read.
pub(crate) fn check_declared(headers: &HeaderMap, limit: usize) -> Result<(), Refusal> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    match declared.is_some_and(|len| len > limit as u64) {
        true => Err(too_large(limit)),
        false => Ok(()),
    }
}

/// A body that could not be read: 413 past the limit (its cause is the length limit),
/// 400 otherwise.
pub(crate) fn unreadable(e: impl Into<axum::BoxError>, limit: usize) -> Refusal {
    let e: axum::BoxError = e.into();
    let over_limit = e.is::<http_body_util::LengthLimitError>()
        || std::error::Error::source(&*e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
    if over_limit {
        return too_large(limit);
    }
    Refusal::new(
        Reason::BadBody,
        StatusCode::BAD_REQUEST,
        format!("Could not read the request body: {e}"),
    )
}

fn too_large(limit: usize) -> Refusal {
    Refusal::new(
        Reason::TooLarge,
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("Request body larger than the limit of {limit} bytes"),
    )
}

/// [`read`] until `deadline`: 408 (the request's `timeout`) when the body has not arrived
/// by then, saying that `never_ran` (the forward, the handler) never ran.
pub(crate) async fn read_by(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    deadline: tokio::time::Instant,
    timeout: std::time::Duration,
    never_ran: &str,
) -> Result<Bytes, Refusal> {
    tokio::time::timeout_at(deadline, read(body, headers, limit))
        .await
        .map_err(|_| {
            let when = format!("while its body was being read; {never_ran} never ran");
            Refusal::expired(timeout, &when)
        })?
}

/// Parses the body as `S` and checks its hash against the `computed_body_hash` header
/// that the signature covers. The result carries the verified header side of the call:
/// its `dendrite` and `axon` terminals, `timeout` and `computed_body_hash` are the
/// header synapse's, so a handler never sees unsigned claims from the body.
///
/// The [`HashMemo`] keeps the hashed fields as hashed, so the answer's hash is redone only
/// for the fields the handler changed.
pub(crate) fn parse<S: Synapse>(
    bytes: &[u8],
    headers: &S,
    max_depth: usize,
) -> Result<(S, HashMemo), Refusal> {
    let unparsable = |why: &dyn std::fmt::Display| {
        Refusal::new(
            Reason::BadBody,
            StatusCode::BAD_REQUEST,
            format!(
                "Could not parse the body as synapse {}: {why}",
                headers.route()
            ),
        )
    };
    if nested_deeper_than(bytes, max_depth) {
        return Err(unparsable(&format_args!(
            "JSON nested deeper than {max_depth} levels"
        )));
    }
    let mut synapse = headers.parse_body(bytes).map_err(|e| unparsable(&e))?;
    let signed = headers.common().computed_body_hash.as_deref().unwrap_or("");
    let (actual, memo) = match synapse.own_body_hash() {
        Some(Ok(own)) => (own, HashMemo::default()),
        Some(Err(why)) => {
            return Err(unparsable(&format_args!("its body hash: {why}")));
        }
        None => {
            let mut hasher = BodyHasher::recording();
            synapse.hash_fields(&mut hasher);
            hasher.finish_recorded()
        }
    };
    if actual != signed {
        return Err(Refusal::new(
            Reason::BodyHash,
            StatusCode::BAD_REQUEST,
            format!(
                "body hash mismatch: the computed_body_hash header is {signed:?}, the body hashes to {actual:?}"
            ),
        ));
    }
    let from = headers.common();
    let to = synapse.common_mut();
    *to.dendrite = from.dendrite.clone();
    *to.axon = from.axon.clone();
    *to.timeout = *from.timeout;
    *to.computed_body_hash = from.computed_body_hash.clone();
    Ok((synapse, memo))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BaseSynapse;

    #[crate::synapse]
    #[derive(Debug)]
    struct Note {
        #[hash]
        text: String,
    }

    fn headers_for(note: &Note) -> Note {
        let mut h = Note::new(String::new());
        h.computed_body_hash = Some(note.body_hash());
        h.dendrite.hotkey = Some("5Signed".into());
        h.timeout = Some(3.0);
        h
    }

    #[test]
    fn a_matching_body_takes_the_signed_header_side() {
        let mut sent = Note::new("hello".into());
        sent.dendrite.hotkey = Some("5Unsigned".into());
        sent.timeout = Some(99.0);
        let body = sent.to_json().unwrap();
        let (parsed, _) = parse(&body, &headers_for(&Note::new("hello".into())), 64).unwrap();
        assert_eq!(parsed.text, "hello");
        assert_eq!(parsed.dendrite.hotkey.as_deref(), Some("5Signed"));
        assert_eq!(parsed.timeout, Some(3.0));
    }

    #[test]
    fn a_tampered_body_is_400_naming_both_hashes() {
        let headers = headers_for(&Note::new("hello".into()));
        let body = Note::new("hellO".into()).to_json().unwrap();
        let err = parse(&body, &headers, 64).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(
            err.message
                .starts_with("body hash mismatch: the computed_body_hash header is \""),
            "{}",
            err.message
        );
        assert!(err.message.contains(&Note::new("hellO".into()).body_hash()));
    }

    #[test]
    fn json_errors_are_400_with_the_parse_error() {
        let err = parse::<BaseSynapse>(b"{\"name\": ", &BaseSynapse::default(), 64).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(
            err.message
                .starts_with("Could not parse the body as synapse Synapse: "),
            "{}",
            err.message
        );
    }

    #[test]
    fn nesting_past_the_limit_is_400_before_parsing() {
        let body = br#"{"name": "Synapse", "x": [[[1]]]}"#;
        let err = parse::<BaseSynapse>(body, &BaseSynapse::default(), 3).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.message.as_str()),
            (
                400,
                "Could not parse the body as synapse Synapse: JSON nested deeper than 3 levels"
            )
        );
        // At the limit, the body reaches the parser (and the hash check).
        let err = parse::<BaseSynapse>(body, &BaseSynapse::default(), 4).unwrap_err();
        assert!(
            err.message.starts_with("body hash mismatch"),
            "{}",
            err.message
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn bodies_over_the_limit_are_413_declared_or_not() {
        let mut declared = HeaderMap::new();
        declared.insert(header::CONTENT_LENGTH, "11".parse().unwrap());
        let err = read(Body::from("x"), &declared, 10).await.unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.message.as_str()),
            (413, "Request body larger than the limit of 10 bytes")
        );
        let err = read(Body::from("12345678901"), &HeaderMap::new(), 10)
            .await
            .unwrap_err();
        assert_eq!(err.status, 413);
        let ok = read(Body::from("1234567890"), &HeaderMap::new(), 10)
            .await
            .unwrap();
        assert_eq!(&ok[..], b"1234567890");
    }
}

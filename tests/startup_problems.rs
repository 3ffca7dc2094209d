//! Problems among attribute-declared handlers refuse the start and name each handler with
//! its source line; forwards that panic or block are contained.

use axon::{Axon, HandlerKind, HandlerProblem, Problem, StatusCode};
use std::sync::mpsc;
use std::sync::Mutex;

#[axon::synapse]
#[derive(Debug)]
pub struct Twice {
    #[default]
    pub n: i64,
}

#[axon::synapse]
#[derive(Debug)]
pub struct Unserved {
    #[default]
    pub n: i64,
}

#[axon::forward]
fn first(synapse: Twice) -> Twice {
    synapse
}

#[axon::forward]
async fn second(synapse: Twice) -> Twice {
    synapse
}

#[axon::verify]
fn verify_unserved(synapse: &Unserved) -> Result<(), axon::HandlerError> {
    let _ = synapse;
    Ok(())
}

/// The line of the attribute above `fn {name}(`.
fn attribute_line(name: &str) -> u32 {
    let src = include_str!("startup_problems.rs");
    let at = src.find(&format!("fn {name}(")).unwrap();
    src[..at].matches('\n').count() as u32 // the line above `fn`
}

#[test]
fn duplicate_forwards_and_an_orphan_verify_are_reported_with_their_lines() {
    let err = Axon::from_registry().handlers().unwrap_err();
    let [Problem::Handlers(HandlerProblem::DuplicateHandler {
        synapse,
        first,
        second,
    }), Problem::Handlers(HandlerProblem::NoForward {
        synapse: orphan,
        handler,
    })] = err.problems()
    else {
        panic!("{err}");
    };
    assert_eq!(*synapse, "Twice");
    assert_eq!(
        (first.name(), first.line()),
        ("startup_problems::first", attribute_line("first"))
    );
    assert_eq!(
        (second.name(), second.line()),
        ("startup_problems::second", attribute_line("second"))
    );
    assert_eq!(*orphan, "Unserved");
    assert_eq!(handler.kind(), HandlerKind::Verify);
    assert_eq!(handler.line(), attribute_line("verify_unserved"));

    assert_eq!(
        err.to_string(),
        format!(
            "the axon cannot start (2 problems):\n  \
             - synapse `Twice` has two forwards: forward `startup_problems::first` \
             (tests/startup_problems.rs:{}) and forward `startup_problems::second` \
             (tests/startup_problems.rs:{}); keep one\n  \
             - verify `startup_problems::verify_unserved` (tests/startup_problems.rs:{}) is \
             for synapse `Unserved`, which has no forward: add a `#[axon::forward]` for it, or \
             remove the verify",
            attribute_line("first"),
            attribute_line("second"),
            attribute_line("verify_unserved"),
        )
    );
}

#[axon::synapse]
#[derive(Debug)]
pub struct Panics {
    #[default]
    pub n: i64,
}

#[tokio::test]
async fn a_panicking_forward_is_an_internal_error_and_the_table_keeps_serving() {
    let handlers = Axon::new()
        .attach(|s: Panics| async move {
            if s.n == 0 {
                panic!("secret detail");
            }
            s
        })
        .handlers()
        .unwrap();
    let err = handlers.forward(Panics::default()).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(err.is_internal(), "the panic message must stay in the log");
    assert_eq!(err.message(), "the forward panicked: secret detail");
    let ok = handlers
        .forward(Panics {
            n: 1,
            ..Panics::default()
        })
        .await;
    assert_eq!(ok.unwrap().n, 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_blocking_forward_does_not_stall_the_async_runtime() {
    // The forward blocks until an async task, on this single-threaded runtime, signals it.
    // Run inline it would deadlock; on the blocking pool it completes.
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Mutex::new(rx);
    let handlers = Axon::new()
        .attach(move |s: Panics| {
            rx.lock().unwrap().recv().unwrap();
            s
        })
        .handlers()
        .unwrap();
    let signal = tokio::spawn(async move { tx.send(()).unwrap() });
    let out = handlers
        .forward(Panics {
            n: 7,
            ..Panics::default()
        })
        .await;
    assert_eq!(out.unwrap().n, 7);
    signal.await.unwrap();
}

#[tokio::test]
async fn an_unserved_synapse_gets_pythons_404_message() {
    let handlers = Axon::new().handlers().unwrap();
    let err = handlers.forward(Unserved::default()).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        err.message(),
        "Synapse name 'Unserved' not found. Available synapses ['Synapse']"
    );
}

/// Every startup problem in one pass: the wallet's, the proxies', the socket's (the port is
/// taken), each once, none as a consequence of another (no "no hotkey" after the wallet's
/// hotkey failed to load); `Debug` prints what `Display` prints, for `?` in `main`.
#[tokio::test]
async fn every_startup_problem_is_reported_once_in_one_pass() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut wallet = axon::config::WalletConfig::default();
    wallet.path = "/nonexistent".into();
    let err = Axon::new()
        .wallet(&wallet)
        .trusted_proxies(["nginx"])
        .ip("127.0.0.1")
        .port(port)
        .start()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.problems(),
            [
                Problem::Hotkey { .. },
                Problem::BadProxy { .. },
                Problem::Bind { .. }
            ]
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("the axon cannot start (3 problems):"),
        "{text}"
    );
    assert!(
        text.contains(&format!("cannot listen on 127.0.0.1:{port}: ")),
        "{text}"
    );
    assert_eq!(format!("{err:?}"), text);
}

//! Handler code that blocks its thread cannot stall the axon: an `async fn` forward that
//! calls `std::thread::sleep(2 s)` (a ported `time.sleep`, a synchronous model call), 20
//! concurrent calls with `max_workers` 10. All 20 are answered 200 (two waves of 2 s), the
//! ping and a request the blacklist refuses are answered at once while every worker is
//! blocked, and the axon logs one warning naming the handler. (The forward is new, so it
//! runs on the axon's handler threads from its first call: see `handler::watch`.)

mod support;

use axon::dendrite::Dendrite;
use axon::keys::Keypair;
use axon::{Axon, AxonInfo, BaseSynapse, Blacklist, State};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::tally::Tally;

#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Slow {
    #[hash]
    pub label: String,
}

/// Forwards that started.
#[derive(Default)]
pub struct Started(Tally);

const BLOCK: Duration = Duration::from_secs(2);

/// Blocks its thread, as a synchronous call inside an `async fn` does.
#[axon::forward]
async fn slow(s: Slow, started: State<Started>) -> Slow {
    started.0.add();
    std::thread::sleep(BLOCK);
    s
}

#[axon::blacklist]
fn no_eve(s: &Slow) -> Blacklist {
    let eve = Keypair::from_uri("//Eve").unwrap();
    match s.dendrite.hotkey.as_deref() == Some(eve.ss58()) {
        true => Blacklist::Deny("Eve is not welcome".into()),
        false => Blacklist::Allow,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_async_forwards_do_not_stall_the_axon() {
    let log = support::log::captured();

    let count = Arc::new(Started::default());
    let mut axon = Axon::from_registry()
        .hotkey(Keypair::from_uri("//Alice").unwrap())
        .state_arc(count.clone())
        .max_workers(10)
        .ip("127.0.0.1")
        .port(0);
    axon.start().await.unwrap();
    let target: AxonInfo = axon.info().unwrap();
    let bob = Arc::new(Dendrite::new(Keypair::from_uri("//Bob").unwrap()));

    let begin = Instant::now();
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let (bob, target) = (bob.clone(), target.clone());
            tokio::spawn(async move {
                let s = Slow::new(format!("call-{i}"));
                bob.call(&target, s, Duration::from_secs(12)).await
            })
        })
        .collect();

    // Every worker is now blocked in its forward, and ten calls wait for one.
    count.0.reached(10, "forwards started").await;
    let ping_start = Instant::now();
    let ping = bob
        .call(&target, BaseSynapse::default(), Duration::from_secs(12))
        .await;
    let ping_took = ping_start.elapsed();
    let eve = Dendrite::new(Keypair::from_uri("//Eve").unwrap());
    let refused_start = Instant::now();
    let refused = eve
        .call(&target, Slow::new("eve".into()), Duration::from_secs(12))
        .await;
    let refused_took = refused_start.elapsed();
    assert_eq!(
        axon.load().unwrap().running,
        10,
        "the forwards were still blocked while the ping and the refusal were answered"
    );
    assert_eq!(ping.dendrite.status_code, Some(200), "{:?}", ping.dendrite);
    assert_eq!(
        refused.dendrite.status_code,
        Some(403),
        "{:?}",
        refused.dendrite
    );
    assert_eq!(
        refused.dendrite.status_message.as_deref(),
        Some("Forbidden. Key is blacklisted: Eve is not welcome.")
    );

    for call in calls {
        let answered = call.await.unwrap();
        assert_eq!(
            answered.dendrite.status_code,
            Some(200),
            "{:?}",
            answered.dendrite
        );
    }
    let all = begin.elapsed();
    eprintln!("20 calls in {all:?}; ping in {ping_took:?}, refusal in {refused_took:?}");
    // Two waves of ten 2 s forwards.
    assert!(all >= 2 * BLOCK, "{all:?}");
    assert!(
        ping_took < Duration::from_millis(100),
        "ping took {ping_took:?}"
    );
    assert!(
        refused_took < Duration::from_millis(100),
        "refusal took {refused_took:?}"
    );

    // One warning, naming the handler with its file and line.
    let text = log.text();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("held its thread"))
        .collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(
        warnings[0].contains("the async forward `blocking::slow` (tests/blocking.rs:"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].contains("make it a plain `fn`"),
        "{}",
        warnings[0]
    );
    axon.stop().await;
}

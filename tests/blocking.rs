//! Handler code that blocks its thread cannot stall the axon: an `async fn` forward that
//! calls `std::thread::sleep(2 s)` (a ported `time.sleep`, a synchronous model call), 20
//! concurrent calls with `max_workers` 10. All 20 are answered 200 (two waves of 2 s), the
//! ping and a request the blacklist refuses are answered while every worker is blocked (the
//! forwards then hold their threads until the test opens a gate, so neither answer can have
//! waited for one), and the axon logs one warning naming the handler. (The forward is new, so it
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

/// Holds every forward's thread until the test opens it.
#[derive(Default)]
pub struct Gate {
    open: std::sync::Mutex<bool>,
    opened: std::sync::Condvar,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    fn wait(&self) {
        let open = self.open.lock().unwrap();
        drop(self.opened.wait_while(open, |open| !*open).unwrap());
    }
}

const BLOCK: Duration = Duration::from_secs(2);

/// Blocks its thread, as a synchronous call inside an `async fn` does: at least `BLOCK`, and
/// until the gate is open.
#[axon::forward]
async fn slow(s: Slow, started: State<Started>, gate: State<Gate>) -> Slow {
    started.0.add();
    std::thread::sleep(BLOCK);
    gate.wait();
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
    let gate = Arc::new(Gate::default());
    let mut axon = Axon::from_registry()
        .hotkey(Keypair::from_uri("//Alice").unwrap())
        .state_arc(count.clone())
        .state_arc(gate.clone())
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

    // Every worker is now blocked in its forward, and ten calls wait for one. The forwards
    // hold their threads until the gate opens, after both answers: a ping or a refusal
    // that needed a worker would time out (408) instead.
    count.0.reached(10, "forwards started").await;
    let ping = bob
        .call(&target, BaseSynapse::default(), Duration::from_secs(12))
        .await;
    let eve = Dendrite::new(Keypair::from_uri("//Eve").unwrap());
    let refused = eve
        .call(&target, Slow::new("eve".into()), Duration::from_secs(12))
        .await;
    assert_eq!(
        axon.load().unwrap().running,
        10,
        "the forwards were still blocked while the ping and the refusal were answered"
    );
    gate.open();
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
    // Two waves of ten 2 s forwards.
    assert!(all >= 2 * BLOCK, "{all:?}");

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

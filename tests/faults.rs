//! Faults: clients that go away mid-request, and `stop()` under load. Each test waits on
//! signals from the handlers (entered, dropped), never on the clock.

mod support;

use axon::dendrite::Dendrite;
use axon::keys::Keypair;
use axon::{Axon, AxonInfo, BaseSynapse, Limits, Synapse};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::counting::start_as_alice;
use support::http::{exchange, request_bytes, sign};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

fn alice() -> Keypair {
    Keypair::from_uri("//Alice").unwrap()
}

fn bob() -> Keypair {
    Keypair::from_uri("//Bob").unwrap()
}

/// A ping signed for Alice's axon with `timeout` seconds.
fn ping(timeout: f64) -> Vec<u8> {
    let synapse = BaseSynapse {
        timeout: Some(timeout),
        ..BaseSynapse::default()
    };
    request_bytes("Synapse", &sign(synapse, &bob(), alice().ss58()), &[])
}

/// `signal`, or a failure after 10 s: a fault that is not handled shows as a failed test,
/// not a hung one.
async fn within<T>(what: &str, signal: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), signal)
        .await
        .unwrap_or_else(|_| panic!("no {what} within 10 s"))
}

/// Sends on drop: tells the test a forward's future was dropped (cancelled or finished).
struct Dropped(mpsc::UnboundedSender<&'static str>);

impl Drop for Dropped {
    fn drop(&mut self) {
        let _ = self.0.send("dropped");
    }
}

/// An axon with one worker. With `hang_first`, its first forward announces itself, then
/// waits forever unless cancelled; every other forward answers at once.
async fn one_worker(hang_first: bool) -> (Axon, SocketAddr, mpsc::UnboundedReceiver<&'static str>) {
    let (events, received) = mpsc::unbounded_channel();
    let first = Arc::new(AtomicUsize::new(if hang_first { 0 } else { 1 }));
    let axon = Axon::new()
        .attach(move |s: BaseSynapse| {
            let events = events.clone();
            let is_first = first.fetch_add(1, Ordering::SeqCst) == 0;
            async move {
                if is_first {
                    let _guard = Dropped(events.clone());
                    events.send("entered").unwrap();
                    std::future::pending::<()>().await;
                }
                s
            }
        })
        .max_workers(1);
    let (axon, addr) = start_as_alice(axon, Limits::default()).await;
    (axon, addr, received)
}

/// A request with a 5 s timeout is served by the one worker, after which none is running or
/// waiting; then the axon stops.
async fn served_with_nothing_left(mut axon: Axon, addr: SocketAddr) {
    assert_eq!(exchange(addr, &ping(5.0)).await.status, 200);
    let load = axon.load().unwrap();
    assert_eq!((load.running, load.waiting), (0, 0));
    axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gone_mid_forward_cancels_it_and_frees_its_worker() {
    let (axon, addr, mut events) = one_worker(true).await;
    // A long timeout: only the disconnect can free the worker in time.
    let mut gone = TcpStream::connect(addr).await.unwrap();
    gone.write_all(&ping(60.0)).await.unwrap();
    assert_eq!(within("entered", events.recv()).await, Some("entered"));
    drop(gone);
    // The forward's future is dropped: an async forward is cancelled at its `.await`.
    assert_eq!(within("drop", events.recv()).await, Some("dropped"));
    // The only worker is free again.
    served_with_nothing_left(axon, addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gone_mid_body_frees_its_worker() {
    let (axon, addr, _events) = one_worker(false).await;
    // Headers, then 10 of the 1000 body bytes announced, then gone.
    let request = String::from_utf8(ping(60.0)).unwrap();
    let (head, _) = request.split_once("\r\n\r\n").unwrap();
    let head = head
        .lines()
        .filter(|l| !l.starts_with("content-length"))
        .collect::<Vec<_>>()
        .join("\r\n");
    let mut gone = TcpStream::connect(addr).await.unwrap();
    gone.write_all(format!("{head}\r\ncontent-length: 1000\r\n\r\n{{\"name\": \"").as_bytes())
        .await
        .unwrap();
    drop(gone);
    // Were the worker still held (until the gone request's 60 s), the next request would
    // wait out its own 5 s and get 408.
    served_with_nothing_left(axon, addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gone_during_a_blocking_forward_gets_nothing_and_frees_the_worker() {
    // A plain fn runs on the blocking pool and cannot be cancelled: it finishes, its answer
    // is discarded, and the worker is freed.
    let (entered_tx, entered) = std::sync::mpsc::channel::<()>();
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let gate = Arc::new(std::sync::Mutex::new(Some(gate)));
    let finished = Arc::new(AtomicUsize::new(0));
    let counted = finished.clone();
    let axon = Axon::new()
        .attach(move |s: BaseSynapse| {
            if let Some(gate) = gate.lock().unwrap().take() {
                entered_tx.send(()).unwrap();
                gate.recv().unwrap();
            }
            counted.fetch_add(1, Ordering::SeqCst);
            s
        })
        .max_workers(1);
    let (mut axon, addr) = start_as_alice(axon, Limits::default()).await;

    let mut gone = TcpStream::connect(addr).await.unwrap();
    gone.write_all(&ping(60.0)).await.unwrap();
    within(
        "entered",
        tokio::task::spawn_blocking(move || entered.recv().unwrap()),
    )
    .await
    .unwrap();
    drop(gone);
    release.send(()).unwrap();
    // The next request needs the only worker: served once the blocking forward finished.
    assert_eq!(exchange(addr, &ping(5.0)).await.status, 200);
    assert_eq!(finished.load(Ordering::SeqCst), 2);
    axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_under_load_answers_every_accepted_request_whole() {
    const CLIENTS: usize = 16;
    const BEFORE_STOP: usize = 300;
    let forwards = Arc::new(AtomicUsize::new(0));
    let counted = forwards.clone();
    let (progress, mut seen) = mpsc::unbounded_channel::<()>();
    let mut axon = Axon::new()
        .attach(move |s: BaseSynapse| {
            let counted = counted.clone();
            let progress = progress.clone();
            async move {
                tokio::task::yield_now().await;
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = progress.send(());
                s
            }
        })
        .hotkey(alice())
        .ip("127.0.0.1")
        .port(0);
    axon.start().await.unwrap();
    let target = AxonInfo {
        version: 0,
        ip: "127.0.0.1".into(),
        port: axon.local_addr().unwrap().port(),
        ip_type: 4,
        hotkey: alice().ss58().into(),
        coldkey: None,
        protocol: 4,
        placeholder1: 0,
        placeholder2: 0,
    };

    // Each client calls in a loop on its own kept-alive connection until the axon is gone.
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let target = target.clone();
            tokio::spawn(async move {
                let dendrite = Dendrite::new(bob());
                let mut statuses = Vec::new();
                loop {
                    let answer = dendrite
                        .call(&target, BaseSynapse::default(), Duration::from_secs(10))
                        .await;
                    let status = answer.common().dendrite.status_code.unwrap_or(0);
                    statuses.push((status, answer.common().dendrite.status_message.clone()));
                    if status != 200 {
                        return statuses;
                    }
                }
            })
        })
        .collect();
    for _ in 0..BEFORE_STOP {
        within("forward", seen.recv()).await.unwrap();
    }
    axon.stop().await;
    assert!(TcpStream::connect(target_addr(&target)).await.is_err());

    let mut answered = 0;
    for client in clients {
        let statuses = within("client's end", client).await.unwrap();
        let (last, earlier) = statuses.split_last().unwrap();
        assert!(earlier.iter().all(|(s, _)| *s == 200), "{earlier:?}");
        answered += earlier.len();
        // The last call found the axon gone: refused or closed before an answer began,
        // never an answer cut short (422) or a timeout (408).
        assert_eq!(last.0, 503, "{last:?}");
    }
    // Every forward that ran was answered, whole, to its client.
    assert_eq!(forwards.load(Ordering::SeqCst), answered);
    assert!(answered >= BEFORE_STOP);
}

fn target_addr(target: &AxonInfo) -> SocketAddr {
    format!("{}:{}", target.ip, target.port).parse().unwrap()
}

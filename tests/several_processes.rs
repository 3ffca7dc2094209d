//! Past one process: three `echo_miner` processes sharing one real Redis (Debian's
//! `redis-server`) behind a real nginx (Debian's, with the guide's configuration), called
//! by the real Python Dendrite. A request accepted by one process is refused by all; Redis
//! stopping fails closed and recovers; a process drained under load loses nothing; two
//! processes share one port with `--axon.reuse_port`.

mod support;

use axon::dendrite::Dendrite;
use axon::keys::Keypair;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::services::{free_port, guide_nginx, substitute, Miner, Nginx, Redis};
use support::Echo;

fn alice() -> String {
    Keypair::from_uri("//Alice").unwrap().ss58().to_owned()
}

/// Three miners sharing `redis`, trusting nginx (127.0.0.1), refusing the client 127.0.0.9.
fn three_miners(redis: &Redis) -> Vec<Miner> {
    let url = redis.url();
    (0..3)
        .map(|_| {
            let args = [
                "--axon.replay_store",
                url.as_str(),
                "--trusted-proxy",
                "127.0.0.1",
                "--deny-ip",
                "127.0.0.9",
                "--ops",
                "127.0.0.1:0",
            ];
            Miner::start(None, &args)
        })
        .collect()
}

/// The `server` lines of an nginx `upstream` of `miners` (round robin).
fn upstream(miners: &[Miner]) -> String {
    miners
        .iter()
        .map(|m| format!("server 127.0.0.1:{};", m.port))
        .collect()
}

/// The guide's HTTP proxy block, in front of `miners` (round robin).
async fn http_proxy(miners: &[Miner]) -> Nginx {
    let port = free_port();
    let (server, _) = guide_nginx();
    let server = substitute(
        &server,
        "listen 8091;",
        &format!("listen 127.0.0.1:{port};"),
    );
    let server = substitute(
        &server,
        "proxy_pass http://127.0.0.1:18091;",
        "proxy_pass http://axons;",
    );
    let upstream = upstream(miners);
    let conf = format!(
        "http {{\n{}\nupstream axons {{ {upstream} }}\n{server}\n}}",
        Nginx::http_paths()
    );
    Nginx::start(&conf, port, false).await
}

/// The guide's `stream` block (PROXY protocol), in front of `miners`.
async fn stream_proxy(miners: &[Miner]) -> Nginx {
    let port = free_port();
    let (_, stream) = guide_nginx();
    let stream = substitute(
        &stream,
        "listen 8091;",
        &format!("listen 127.0.0.1:{port};"),
    );
    let upstream = upstream(miners);
    let stream = substitute(&stream, "proxy_pass 127.0.0.1:18091;", "proxy_pass axons;");
    let stream = substitute(
        &stream,
        "stream {",
        &format!("stream {{\n    upstream axons {{ {upstream} }}"),
    );
    Nginx::start(&stream, port, true).await
}

fn target(port: u16) -> axon::AxonInfo {
    support::loopback_alice(port)
}

/// One Rust call of `Echo` from `dendrite` to `port`: status and message.
async fn call(dendrite: &Dendrite, port: u16, text: &str) -> (Option<i64>, Option<String>) {
    let out = dendrite
        .call(
            &target(port),
            Echo::new(text.into(), text.len() as i64),
            Duration::from_secs(20),
        )
        .await;
    if out.dendrite.status_code == Some(200) {
        assert_eq!(out.out, Some(text.chars().rev().collect()));
    }
    (out.dendrite.status_code, out.dendrite.status_message)
}

/// `GET /metrics` of a miner: the value of the series `name` (a metric and its labels). A
/// series not yet counted is 0, but its metric must be exported: a metric missing from the
/// text fails the test instead of reading as 0.
async fn metric(miner: &Miner, name: &str) -> u64 {
    let (_, text) = support::http::get(miner.ops.unwrap(), "/metrics").await;
    let family = name.split('{').next().unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("# TYPE {family} "))),
        "{family} is not in /metrics:\n{text}"
    );
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_accepted_by_one_process_is_refused_by_all() {
    let redis = Redis::start();
    let miners = three_miners(&redis);
    let nginx = http_proxy(&miners).await;

    // The real Python Dendrite through nginx; then every request resent byte for byte.
    const CALLS: usize = 24;
    let config = serde_json::json!({"port": nginx.port, "hotkey": alice(), "calls": CALLS});
    let out = support::run_python_script_with("nginx_calls.py", &[&config.to_string()]);
    let result = support::result_line(&out);
    let calls = result["calls"].as_array().unwrap();
    assert_eq!(calls.len(), CALLS);
    for c in calls {
        assert_eq!(
            (c["status"].as_i64(), c["ok"].as_bool()),
            (Some(200), Some(true)),
            "{c}"
        );
    }
    let replays = result["replays"].as_array().unwrap();
    assert_eq!(replays.len(), CALLS);
    for r in replays {
        assert_eq!(r[0], 401, "{r}");
        let message = r[1].as_str().unwrap();
        assert!(
            message.starts_with("Not Verified with error: Nonce is a replay"),
            "{message}"
        );
    }
    // Round robin spread the calls and their replays over all three.
    let mut served = 0;
    for miner in &miners {
        let ok = metric(miner, r#"axon_requests_total{synapse="Echo",status="200"}"#).await;
        let refused = metric(miner, r#"axon_requests_total{synapse="Echo",status="401"}"#).await;
        assert!(
            ok > 0 && refused > 0,
            "each process served and refused: {ok}, {refused}"
        );
        served += ok;
    }
    assert_eq!(served, CALLS as u64);

    // The blacklist sees the client nginx names, not nginx.
    let denied =
        Dendrite::new(Keypair::from_uri("//Bob").unwrap()).local_address([127, 0, 0, 9].into());
    let (status, message) = call(&denied, nginx.port, "who").await;
    assert_eq!(status, Some(403));
    assert_eq!(
        message.as_deref(),
        Some("Forbidden. Key is blacklisted: 127.0.0.9 is denied.")
    );
    let (status, _) = call(
        &Dendrite::new(Keypair::from_uri("//Bob").unwrap()),
        nginx.port,
        "me",
    )
    .await;
    assert_eq!(status, Some(200));

    // The guide's `stream` block: the PROXY protocol names the client.
    let stream = stream_proxy(&miners).await;
    let (status, message) = call(&denied, stream.port, "who").await;
    assert_eq!(
        (status, message.as_deref()),
        (
            Some(403),
            Some("Forbidden. Key is blacklisted: 127.0.0.9 is denied.")
        )
    );
    let (status, _) = call(
        &Dendrite::new(Keypair::from_uri("//Bob").unwrap()),
        stream.port,
        "me",
    )
    .await;
    assert_eq!(status, Some(200));
}

/// An answer that was not 200: its status and message.
type Other = (Option<i64>, Option<String>);

/// Clients calling `port` in loops until `stop`: the answers 200, and every other
/// status with its message.
fn load(
    port: u16,
    clients: usize,
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
) -> Vec<tokio::task::JoinHandle<Vec<Other>>> {
    (0..clients)
        .map(|c| {
            let (stop, ok) = (stop.clone(), ok.clone());
            tokio::spawn(async move {
                let dendrite = Dendrite::new(Keypair::from_uri(&format!("//Load{c}")).unwrap());
                let mut other = Vec::new();
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let (status, message) = call(&dendrite, port, &format!("c{c}-{i}")).await;
                    match status {
                        Some(200) => {
                            ok.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => other.push((status, message)),
                    }
                    i += 1;
                }
                other
            })
        })
        .collect()
}

/// Waits until `counter` reaches `n`.
async fn until(counter: &AtomicU64, n: u64, what: &str) {
    let reached = async {
        while counter.load(Ordering::SeqCst) < n {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), reached)
        .await
        .unwrap_or_else(|_| panic!("{what}: {} of {n}", counter.load(Ordering::SeqCst)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopping_fails_closed_and_recovers_without_a_second_forward() {
    let mut redis = Redis::start();
    let miners = three_miners(&redis);
    let nginx = http_proxy(&miners).await;
    let (stop, ok) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let tasks = load(nginx.port, 4, stop.clone(), ok.clone());
    until(&ok, 40, "served before Redis stops").await;

    redis.stop();
    // Refused 503 while it is down, by every process.
    let refused = async {
        loop {
            let mut all = 0;
            for miner in &miners {
                all += metric(miner, r#"axon_refusals_total{reason="replay_store"}"#)
                    .await
                    .min(1);
            }
            if all == 3 {
                break;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), refused)
        .await
        .expect("every process refused while Redis was down");
    for miner in &miners {
        assert_eq!(metric(miner, "axon_replay_store_up").await, 0);
    }
    redis.restart();
    let before = ok.load(Ordering::SeqCst);
    until(&ok, before + 40, "served after Redis is back").await;
    stop.store(true, Ordering::SeqCst);
    let mut others = Vec::new();
    for task in tasks {
        others.extend(task.await.unwrap());
    }
    // Every answer but 200 was the store's 503, never a 500, a hang or an unchecked pass.
    assert!(!others.is_empty());
    for (status, message) in &others {
        assert_eq!(*status, Some(503), "{message:?}");
        let message = message.as_deref().unwrap_or("");
        assert!(message.contains("replay store"), "{message}");
    }
    for miner in &miners {
        assert_eq!(metric(miner, "axon_replay_store_up").await, 1);
    }
    // No request reached a forward twice, and none was lost: the forwards of the three
    // processes are the calls answered 200, each with its own nonce.
    let mut forwards = 0;
    for miner in miners {
        miner.sigterm();
        let (code, served) = miner.wait();
        assert_eq!(code, 0);
        forwards += served;
    }
    assert_eq!(forwards, ok.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_drained_under_load_behind_nginx_loses_nothing() {
    let redis = Redis::start();
    let mut miners = three_miners(&redis);
    let nginx = http_proxy(&miners).await;
    let (stop, ok) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let tasks = load(nginx.port, 4, stop.clone(), ok.clone());
    until(&ok, 40, "served before the drain").await;
    let drained = miners.remove(1);
    drained.sigterm();
    let (code, drained_served) = drained.wait();
    assert_eq!(code, 0);
    let after = ok.load(Ordering::SeqCst);
    until(&ok, after + 40, "the other two serve on").await;
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        let others = task.await.unwrap();
        assert!(others.is_empty(), "every call was answered 200: {others:?}");
    }
    let mut forwards = drained_served;
    for miner in miners {
        miner.sigterm();
        let (code, served) = miner.wait();
        assert_eq!(code, 0);
        forwards += served;
    }
    assert!(drained_served > 0);
    assert_eq!(forwards, ok.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_port_with_reuse_port() {
    let port = free_port();
    let args = ["--axon.reuse_port", "--ops", "127.0.0.1:0"];
    let first = Miner::start(Some(port), &args);
    let second = Miner::start(Some(port), &args);
    assert_eq!((first.port, second.port), (port, port));
    // Many connections (a dendrite each): the kernel spreads them over both.
    let mut calls = Vec::new();
    for c in 0..32 {
        calls.push(tokio::spawn(async move {
            let dendrite = Dendrite::new(Keypair::from_uri(&format!("//Port{c}")).unwrap());
            call(&dendrite, port, &format!("p{c}")).await.0
        }));
    }
    for c in calls {
        assert_eq!(c.await.unwrap(), Some(200));
    }
    let name = r#"axon_requests_total{synapse="Echo",status="200"}"#;
    let (a, b) = (metric(&first, name).await, metric(&second, name).await);
    assert!(a > 0 && b > 0, "both received traffic: {a} and {b}");
    assert_eq!(a + b, 32);
    // One drains and exits; the other serves on, on the same port.
    first.sigterm();
    let (code, served) = first.wait();
    assert_eq!((code, served), (0, a));
    for c in 0..8 {
        let dendrite = Dendrite::new(Keypair::from_uri(&format!("//After{c}")).unwrap());
        assert_eq!(call(&dendrite, port, &format!("a{c}")).await.0, Some(200));
    }
    assert_eq!(metric(&second, name).await, b + 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_is_a_503_within_the_bound_and_served_once_it_wakes() {
    let redis = Redis::start();
    let url = redis.url();
    let miner = Miner::start(None, &["--axon.replay_store", &url, "--ops", "127.0.0.1:0"]);
    let dendrite = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
    assert_eq!(call(&dendrite, miner.port, "before").await.0, Some(200));
    redis.pause();
    let started = std::time::Instant::now();
    let (status, message) = call(&dendrite, miner.port, "hung").await;
    assert_eq!(status, Some(503), "{message:?}");
    let message = message.unwrap_or_default();
    assert!(
        message.contains("replay store did not answer within 250 ms"),
        "{message}"
    );
    // Bounded: the store's 250 ms, not the client's 20 s timeout.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(metric(&miner, "axon_replay_store_up").await, 0);
    redis.resume();
    let (status, message) = call(&dendrite, miner.port, "after").await;
    assert_eq!(status, Some(200), "{message:?}");
    assert_eq!(metric(&miner, "axon_replay_store_up").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_fallback_serves_on_the_process_store_alone() {
    // A store URL where nothing listens, and the operator's choice to serve on.
    let url = format!("redis://127.0.0.1:{}", free_port());
    let args = [
        "--axon.replay_store",
        url.as_str(),
        "--axon.replay_store_fallback",
        "local",
        "--ops",
        "127.0.0.1:0",
    ];
    let miner = Miner::start(None, &args);
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], miner.port).into();
    let bob = Keypair::from_uri("//Bob").unwrap();
    let signed = support::http::sign(Echo::new("local".into(), 5), &bob, &alice());
    let bytes = support::http::request_bytes("Echo", &signed, &[]);
    let first = support::http::exchange(addr, &bytes).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    // The process's own store still refuses the same bytes.
    let again = support::http::exchange(addr, &bytes).await;
    assert_eq!(again.status, 401, "{:?}", again.body);
    assert_eq!(metric(&miner, "axon_replay_store_up").await, 0);
    // Nothing listens: counted as unreachable.
    let unreachable = r#"axon_replay_store_failures_total{reason="unreachable"}"#;
    assert!(metric(&miner, unreachable).await >= 1);
}

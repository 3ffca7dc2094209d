//! The shared replay store on the Redis operators run (Debian's redis-server, on loopback):
//! TLS with a private CA and an ACL user whose password holds `/` and `:`, and a Cluster of
//! three masters with a replica each, through a master's failover and a slot migration. In each, two `echo_miner`
//! processes share the store: a request one accepted, the other refuses as a replay.

mod support;

use axon::keys::Keypair;
use std::net::SocketAddr;
use support::http::{exchange, request_bytes, sign};
use support::services::{free_port, Miner, Redis, RedisCluster, TempDir};
use support::Echo;

fn alice() -> String {
    Keypair::from_uri("//Alice").unwrap().ss58().to_owned()
}

/// A signed `Echo` from Bob to Alice's axon, as raw request bytes.
fn signed(text: &str) -> Vec<u8> {
    let bob = Keypair::from_uri("//Bob").unwrap();
    let echo = sign(Echo::new(text.into(), 1), &bob, &alice());
    request_bytes("Echo", &echo, &[])
}

fn addr(miner: &Miner) -> SocketAddr {
    ([127, 0, 0, 1], miner.port).into()
}

/// `GET /metrics` of a miner: the value of the series `name` (0 when not yet counted; its
/// family must be there).
async fn metric(miner: &Miner, name: &str) -> u64 {
    let (_, text) = support::http::get(miner.ops.unwrap(), "/metrics").await;
    let family = name.split('{').next().unwrap();
    assert!(
        text.contains(&format!("# TYPE {family} ")),
        "{family} not in:\n{text}"
    );
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0)
}

/// Sends the same signed request to `first` then to `second`: 200, then 401 (a replay the
/// shared store caught: each process's own store has not seen it at the second).
async fn replay_refused_by_the_other(first: &Miner, second: &Miner, text: &str) {
    let bytes = signed(text);
    let served = exchange(addr(first), &bytes).await;
    assert_eq!(served.status, 200, "{:?}", served.body);
    let replayed = exchange(addr(second), &bytes).await;
    assert_eq!(replayed.status, 401, "{:?}", replayed.body);
    let message = replayed
        .header("bt_header_axon_status_message")
        .unwrap_or_default();
    assert!(message.contains("Nonce is a replay"), "{message}");
}

/// A CA, and a certificate it signed for 127.0.0.1, in PEM files under `dir`: (ca, cert,
/// key).
fn test_ca(dir: &std::path::Path) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let server = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = server.signed_by(&key, &ca_cert, &ca_key).unwrap();
    let write = |name: &str, pem: String| {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        path.to_str().unwrap().to_owned()
    };
    (
        write("ca.pem", ca_cert.pem()),
        write("server.pem", cert.pem()),
        write("server.key", key.serialize_pem()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_ca_and_an_acl_user() {
    let dir = TempDir::new("redis-tls");
    let (ca, cert, key) = test_ca(&dir.0);
    let port = free_port();
    // TLS only; the default user off, so only the ACL user gets in; it may SET only the
    // replay keys. Its password holds `/` and `:`.
    let settings = format!(
        "--port 0 --tls-port {port} --tls-cert-file {cert} --tls-key-file {key} \
         --tls-ca-cert-file {ca} --tls-auth-clients no \
         --user default off --user miner on >p/ss:word ~axon:replay:* +set +ping"
    );
    let settings: Vec<&str> = settings.split_whitespace().collect();
    let mut redis = Redis::start_with(port, &settings);
    let url = format!("rediss://miner:p%2Fss%3Aword@127.0.0.1:{}/0", redis.port);
    let args = [
        "--axon.replay_store",
        url.as_str(),
        "--axon.replay_store_ca",
        ca.as_str(),
        "--ops",
        "127.0.0.1:0",
    ];
    let (first, second) = (Miner::start(None, &args), Miner::start(None, &args));
    replay_refused_by_the_other(&first, &second, "over tls").await;
    replay_refused_by_the_other(&second, &first, "and back").await;
    assert_eq!(metric(&first, "axon_replay_store_up").await, 1);

    // Redis killed: 503, never served unchecked; back, served again (after the client's
    // backoff, at most 5 s: each try is a new request, 60 s at most).
    redis.stop();
    let answer = exchange(addr(&first), &signed("while down")).await;
    assert_eq!(answer.status, 503, "{:?}", answer.body);
    redis.restart();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut tries = 0;
    loop {
        tries += 1;
        let answer = exchange(addr(&first), &signed(&format!("back {tries}"))).await;
        match answer.status {
            200 => break,
            503 if std::time::Instant::now() < deadline => {
                // The next try once the backoff may have passed: the miner says when.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => panic!("{other} after {tries} tries: {:?}", answer.body),
        }
    }
    replay_refused_by_the_other(&first, &second, "after the restart").await;

    // The wrong password: 503, the credentials named, counted as auth.
    let wrong = format!("rediss://miner:nope@127.0.0.1:{}/0", redis.port);
    let args = [
        "--axon.replay_store",
        wrong.as_str(),
        "--axon.replay_store_ca",
        ca.as_str(),
        "--ops",
        "127.0.0.1:0",
    ];
    let refused = Miner::start(None, &args);
    let answer = exchange(addr(&refused), &signed("wrong password")).await;
    assert_eq!(answer.status, 503, "{:?}", answer.body);
    let message = answer
        .header("bt_header_axon_status_message")
        .unwrap_or_default();
    assert!(message.contains("refused the credentials"), "{message}");
    let auth = r#"axon_replay_store_failures_total{reason="auth"}"#;
    assert_eq!(metric(&refused, auth).await, 1);

    // The system's CAs do not know the test CA: the handshake fails, 503, unreachable.
    let args = ["--axon.replay_store", url.as_str(), "--ops", "127.0.0.1:0"];
    let untrusting = Miner::start(None, &args);
    let answer = exchange(addr(&untrusting), &signed("unknown ca")).await;
    assert_eq!(answer.status, 503, "{:?}", answer.body);
    let unreachable = r#"axon_replay_store_failures_total{reason="unreachable"}"#;
    assert_eq!(metric(&untrusting, unreachable).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_through_a_failover_and_a_slot_migration() {
    let cluster = RedisCluster::start();
    let (masters, replicas) = cluster.roles();
    assert_eq!((masters.len(), replicas.len()), (3, 3));
    // One master is the seed; the others are found from it.
    let url = format!("redis://127.0.0.1:{}", masters[0]);
    let args = [
        "--axon.replay_store",
        url.as_str(),
        "--axon.replay_store_cluster",
        "true",
        "--ops",
        "127.0.0.1:0",
    ];
    let (first, second) = (Miner::start(None, &args), Miner::start(None, &args));
    // Keys spread over the slots of all three masters.
    for i in 0..24 {
        replay_refused_by_the_other(&first, &second, &format!("before {i}")).await;
    }
    let keys: u64 = masters
        .iter()
        .map(|m| cluster.cli(*m, &["DBSIZE"]).trim().parse::<u64>().unwrap())
        .collect::<Vec<_>>()
        .iter()
        .filter(|n| **n > 0)
        .count() as u64;
    assert_eq!(keys, 3, "every master holds some of the keys");

    // A replica takes over from its master (a manual failover, as an operator or the
    // cluster does): requests go on reaching the keys' new master.
    let replica = replicas[0];
    cluster.cli(replica, &["CLUSTER", "FAILOVER"]);
    cluster.until(replica, "master", &["ROLE"]);
    for node in &cluster.nodes {
        cluster.until(node.port, "cluster_state:ok", &["CLUSTER", "INFO"]);
    }
    let mut served = 0;
    for i in 0..24 {
        let bytes = signed(&format!("after {i}"));
        let answer = exchange(addr(&first), &bytes).await;
        // Never a replay accepted: a request is served once, or refused 503 while the
        // client learns the new topology.
        match answer.status {
            200 => {
                served += 1;
                let again = exchange(addr(&second), &bytes).await;
                assert_eq!(again.status, 401, "{:?}", again.body);
            }
            503 => {}
            other => panic!("{other}: {:?}", answer.body),
        }
    }
    assert!(served > 0, "served after the failover");
    assert_eq!(metric(&first, "axon_replay_store_up").await, 1);

    // Slots move from one master to another while requests come: keys in a migrating slot
    // are answered with ASK, then the slot's new owner with MOVED; the client follows both.
    let (masters, _) = cluster.roles();
    let id = |port: u16| cluster.cli(port, &["CLUSTER", "MYID"]).trim().to_owned();
    let (from, to) = (id(masters[0]), id(masters[1]));
    let seed = format!("127.0.0.1:{}", masters[0]);
    let reshard = tokio::task::spawn_blocking(move || {
        std::process::Command::new("redis-cli")
            .args(["--cluster", "reshard", &seed, "--cluster-from", &from])
            .args([
                "--cluster-to",
                &to,
                "--cluster-slots",
                "4000",
                "--cluster-yes",
            ])
            .output()
            .expect("redis-cli --cluster reshard")
    });
    let (mut during, mut served) = (0, 0);
    while !reshard.is_finished() {
        during += 1;
        let bytes = signed(&format!("migrating {during}"));
        match exchange(addr(&first), &bytes).await.status {
            200 => {
                served += 1;
                let again = exchange(addr(&second), &bytes).await;
                assert_eq!(again.status, 401, "{:?}", again.body);
            }
            503 => {}
            other => panic!("{other} during the migration"),
        }
    }
    let out = reshard.await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(served > 0, "served during the migration ({during} sent)");
    // Afterwards every request is served once and refused by the other process.
    for i in 0..24 {
        replay_refused_by_the_other(&first, &second, &format!("moved {i}")).await;
    }
}

//! The shared replay store on the Redis operators run (Debian's redis-server, on loopback):
//! TLS with a private CA and an ACL user whose password holds `/` and `:`; TLS with client
//! certificates; a Cluster of three masters with a replica each, through failovers, a slot
//! migration, a master killed and the whole cluster restarted; a master and its replica
//! named by three sentinels, through a failover and a killed master. In each, two
//! `echo_miner` processes share the store: a request one accepted, the other refuses as a
//! replay.

mod support;

use axon::keys::Keypair;
use std::net::SocketAddr;
use support::http::{exchange, request_bytes, sign};
use support::services::{
    free_port, redis_cli, redis_until, Miner, Redis, RedisCluster, RedisSentinels, TempDir,
};
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

/// Sends a signed request to `first`, and if it is served, the same to `second`: never a
/// replay accepted. True when `first` served it; false when it refused it 503 (the store
/// did not answer: failing over, backing off).
async fn served_once(first: &Miner, second: &Miner, text: &str) -> bool {
    let bytes = signed(text);
    let answer = exchange(addr(first), &bytes).await;
    match answer.status {
        200 => {
            let again = exchange(addr(second), &bytes).await;
            // 503 if the store stopped answering in between; never 200.
            assert!(
                matches!(again.status, 401 | 503),
                "{text}: a replay answered {} {:?}",
                again.status,
                again.body
            );
            true
        }
        503 => false,
        other => panic!("{text}: {other} {:?}", answer.body),
    }
}

/// Sends requests until one is served (after the store's failover or the client's
/// backoff: 60 s at most); returns how many were refused 503 first.
async fn until_served(first: &Miner, second: &Miner, label: &str) -> u32 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut refused = 0;
    while !served_once(first, second, &format!("{label} {refused}")).await {
        refused += 1;
        assert!(
            std::time::Instant::now() < deadline,
            "{label}: never served again"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    refused
}

/// Two miners sharing the store at `url`, with `settings` beside it, and their metrics on
/// `--ops`.
fn two_miners(url: &str, settings: &[&str]) -> (Miner, Miner) {
    let args = [
        &["--axon.replay_store", url, "--ops", "127.0.0.1:0"][..],
        settings,
    ]
    .concat();
    (Miner::start(None, &args), Miner::start(None, &args))
}

/// A test CA's files: its certificate, and a certificate it signed with its key, for the
/// server (127.0.0.1) and for a client.
struct TestCa {
    ca: String,
    server: (String, String),
    client: (String, String),
}

/// A CA, and the certificates it signed, in PEM files under `dir`.
fn test_ca(dir: &std::path::Path) -> TestCa {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    // Names of their own: OpenSSL takes a certificate whose subject is its issuer's for a
    // self-signed one (rcgen gives every certificate the same name by default).
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "axon test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let write = |name: &str, pem: String| {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let issue = |name: &str, for_name: &str| {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec![for_name.to_owned()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, for_name);
        let cert = params.signed_by(&key, &ca_cert, &ca_key).unwrap();
        (
            write(&format!("{name}.pem"), cert.pem()),
            write(&format!("{name}.key"), key.serialize_pem()),
        )
    };
    let server = issue("server", "127.0.0.1");
    let client = issue("client", "miner");
    TestCa {
        ca: write("ca.pem", ca_cert.pem()),
        server,
        client,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_ca_and_an_acl_user() {
    let dir = TempDir::new("redis-tls");
    let TestCa {
        ca,
        server: (cert, key),
        ..
    } = test_ca(&dir.0);
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
    let (first, second) = two_miners(&url, &["--axon.replay_store_ca", &ca]);
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
async fn a_server_that_asks_for_a_client_certificate() {
    let dir = TempDir::new("redis-mtls");
    let TestCa {
        ca,
        server: (cert, key),
        client: (client_cert, client_key),
    } = test_ca(&dir.0);
    let port = free_port();
    // TLS only, and only for a client whose certificate the test CA signed.
    let settings = format!(
        "--port 0 --tls-port {port} --tls-cert-file {cert} --tls-key-file {key} \
         --tls-ca-cert-file {ca} --tls-auth-clients yes"
    );
    let settings: Vec<&str> = settings.split_whitespace().collect();
    let redis = Redis::start_with(port, &settings);
    let url = format!("rediss://127.0.0.1:{}/0", redis.port);
    let (first, second) = two_miners(
        &url,
        &[
            "--axon.replay_store_ca",
            &ca,
            "--axon.replay_store_cert",
            &client_cert,
            "--axon.replay_store_key",
            &client_key,
        ],
    );
    replay_refused_by_the_other(&first, &second, "with a client certificate").await;
    replay_refused_by_the_other(&second, &first, "and back").await;
    assert_eq!(redis_tls_keys(port, &ca, &client_cert, &client_key), 2);

    // Without one, the server ends the handshake: 503, unreachable.
    let args = ["--axon.replay_store", &url, "--axon.replay_store_ca", &ca];
    let refused = Miner::start(None, &[&args[..], &["--ops", "127.0.0.1:0"]].concat());
    let answer = exchange(addr(&refused), &signed("no client certificate")).await;
    assert_eq!(answer.status, 503, "{:?}", answer.body);
    let unreachable = r#"axon_replay_store_failures_total{reason="unreachable"}"#;
    assert_eq!(metric(&refused, unreachable).await, 1);
}

/// `DBSIZE` of a TLS server that asks for a client certificate, through redis-cli.
fn redis_tls_keys(port: u16, ca: &str, cert: &str, key: &str) -> u64 {
    let out = std::process::Command::new("redis-cli")
        .args([
            "-p",
            &port.to_string(),
            "--tls",
            "--cacert",
            ca,
            "--cert",
            cert,
        ])
        .args(["--key", key, "DBSIZE"])
        .output()
        .expect("redis-cli");
    let answer = String::from_utf8_lossy(&out.stdout);
    answer
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("DBSIZE: {answer}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_over_tls() {
    let dir = TempDir::new("redis-cluster-tls");
    let TestCa {
        ca,
        server: (cert, key),
        client: (client_cert, client_key),
    } = test_ca(&dir.0);
    // Clients, replication and the cluster's bus over TLS; a client certificate asked of
    // every client.
    let settings = |port: u16| {
        let tls = format!(
            "--port 0 --tls-port {port} --tls-cluster yes --tls-replication yes \
             --tls-cert-file {cert} --tls-key-file {key} --tls-ca-cert-file {ca} \
             --tls-auth-clients yes"
        );
        tls.split_whitespace().map(str::to_owned).collect()
    };
    let cli = [
        "--tls",
        "--cacert",
        &ca,
        "--cert",
        &client_cert,
        "--key",
        &client_key,
    ];
    let cluster = RedisCluster::start_with(3, 0, &settings, &cli);
    let url = format!("rediss://127.0.0.1:{}", cluster.nodes[0].port);
    let (first, second) = two_miners(
        &url,
        &[
            "--axon.replay_store_cluster",
            "true",
            "--axon.replay_store_ca",
            &ca,
            "--axon.replay_store_cert",
            &client_cert,
            "--axon.replay_store_key",
            &client_key,
        ],
    );
    for i in 0..12 {
        replay_refused_by_the_other(&first, &second, &format!("over tls {i}")).await;
    }
    let with_keys = cluster
        .nodes
        .iter()
        .filter(|n| redis_tls_keys(n.port, &ca, &client_cert, &client_key) > 0)
        .count();
    assert_eq!(with_keys, 3, "every master holds some of the keys");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_through_failovers_a_migration_and_a_restart() {
    // The miners log in as an ACL user of their own, allowed what the guide allows a
    // Cluster's miners (redis-cli and the cluster's bus use the default user).
    let miner = |_| {
        "--user miner on >secret ~axon:replay:* +set +ping +cluster|slots +asking"
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    let mut cluster = RedisCluster::start_with(6, 1, &miner, &[]);
    let (masters, replicas) = cluster.roles();
    assert_eq!((masters.len(), replicas.len()), (3, 3));
    // One master is the seed; the others are found from it.
    let url = format!("redis://miner:secret@127.0.0.1:{}", masters[0]);
    let (first, second) = two_miners(&url, &["--axon.replay_store_cluster", "true"]);
    // Keys spread over the slots of all three masters.
    for i in 0..24 {
        replay_refused_by_the_other(&first, &second, &format!("before {i}")).await;
    }
    let keys: u64 = masters
        .iter()
        .map(|m| redis_cli(*m, &["DBSIZE"]).trim().parse::<u64>().unwrap())
        .collect::<Vec<_>>()
        .iter()
        .filter(|n| **n > 0)
        .count() as u64;
    assert_eq!(keys, 3, "every master holds some of the keys");

    // A replica takes over from its master (a manual failover, as an operator or the
    // cluster does): requests go on reaching the keys' new master.
    let replica = replicas[0];
    redis_cli(replica, &["CLUSTER", "FAILOVER"]);
    redis_until(replica, "master", &["ROLE"]);
    for node in &cluster.nodes {
        redis_until(node.port, "cluster_state:ok", &["CLUSTER", "INFO"]);
    }
    // Never a replay accepted: a request is served once, or refused 503 while the client
    // learns the new topology.
    let mut served = 0;
    for i in 0..24 {
        served += served_once(&first, &second, &format!("after {i}")).await as u32;
    }
    assert!(served > 0, "served after the failover");
    assert_eq!(metric(&first, "axon_replay_store_up").await, 1);

    // Slots move from one master to another while requests come: keys in a migrating slot
    // are answered with ASK, then the slot's new owner with MOVED; the client follows both.
    let (masters, _) = cluster.roles();
    let id = |port: u16| redis_cli(port, &["CLUSTER", "MYID"]).trim().to_owned();
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
        served += served_once(&first, &second, &format!("migrating {during}")).await as u32;
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

    // A master killed, not failed over by hand: its replica takes over once the others
    // agree it is gone (the node timeout, 2 s). Meanwhile a request whose key is in its
    // slots, or any once the cluster counts itself down, is refused 503; never served
    // unchecked.
    let (masters, _) = cluster.roles();
    let victim = masters[2];
    cluster
        .nodes
        .iter_mut()
        .find(|n| n.port == victim)
        .unwrap()
        .stop();
    let (mut sent, mut refused) = (0, 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while cluster.roles().0.len() < 3 {
        assert!(std::time::Instant::now() < deadline, "no replica took over");
        sent += 1;
        refused += !served_once(&first, &second, &format!("master down {sent}")).await as u32;
    }
    assert!(
        refused > 0,
        "a key in the dead master's slots was refused ({sent} sent)"
    );
    until_served(&first, &second, "after the kill").await;
    for i in 0..24 {
        replay_refused_by_the_other(&first, &second, &format!("taken over {i}")).await;
    }
    // Back, it rejoins as a replica of the node that took its place.
    cluster
        .nodes
        .iter_mut()
        .find(|n| n.port == victim)
        .unwrap()
        .restart();
    redis_until(victim, "slave", &["ROLE"]);

    // The whole cluster killed: every request refused 503; restarted (its nodes read
    // their topology back from their files), served again.
    for node in cluster.nodes.iter_mut() {
        node.stop();
    }
    assert!(!served_once(&first, &second, "cluster down").await);
    for node in cluster.nodes.iter_mut() {
        node.restart();
    }
    for node in &cluster.nodes {
        redis_until(node.port, "cluster_state:ok", &["CLUSTER", "INFO"]);
    }
    until_served(&first, &second, "after the restart").await;
    for i in 0..24 {
        replay_refused_by_the_other(&second, &first, &format!("restarted {i}")).await;
    }
    assert_eq!(metric(&first, "axon_replay_store_up").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_through_a_failover_and_a_killed_master() {
    let mut set = RedisSentinels::start();
    // The URL names the master by its name; the sentinels say where it is.
    let url = format!("redis://miner:secret@{}/0", set.name);
    let sentinels = set.args();
    let sentinels: Vec<&str> = sentinels.iter().map(String::as_str).collect();
    let (first, second) = two_miners(&url, &sentinels);
    for i in 0..12 {
        replay_refused_by_the_other(&first, &second, &format!("before {i}")).await;
    }
    let original = set.master();
    assert_eq!(
        redis_cli(original, &["DBSIZE"]).trim(),
        "12",
        "every request recorded on the master"
    );

    // An operator's failover while requests come. The sentinels promote the replica, then
    // turn the old master into its replica: meanwhile neither takes writes (no replica
    // follows either), so requests are refused 503; then the client, its writes refused
    // READONLY or its connection closed, asks the sentinels again and finds the new master.
    redis_cli(set.sentinels[0].port, &["SENTINEL", "FAILOVER", set.name]);
    let mut sent = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while set.master() == original || !redis_cli(original, &["ROLE"]).starts_with("slave") {
        assert!(
            std::time::Instant::now() < deadline,
            "the failover never ended"
        );
        let text = format!("failing over {}", sent.len());
        let bytes = signed(&text);
        let answer = exchange(addr(&first), &bytes).await;
        assert!(
            matches!(answer.status, 200 | 503),
            "{text}: {:?}",
            answer.body
        );
        sent.push((bytes, answer.status));
    }
    let promoted = set.master();
    assert_ne!(promoted, original);
    until_served(&first, &second, "after the failover").await;
    for i in 0..12 {
        replay_refused_by_the_other(&second, &first, &format!("failed over {i}")).await;
    }
    // What was served while the failover ran is refused now, by either process: no key
    // was lost with the old master.
    for (bytes, status) in sent.iter().filter(|(_, status)| *status == 200) {
        for miner in [&first, &second] {
            let again = exchange(addr(miner), bytes).await;
            assert_eq!(
                again.status, 401,
                "served at {status}, then {:?}",
                again.body
            );
        }
    }

    // The master killed: nothing takes writes until the sentinels agree it is down (1 s)
    // and promote the other node, and that has a replica again (the killed one, back).
    // Requests meanwhile are refused 503, never served unchecked.
    let node = set.nodes.iter_mut().find(|n| n.port == promoted).unwrap();
    node.stop();
    assert!(
        !served_once(&first, &second, "master killed").await,
        "refused while no master answers"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while set.master() != original {
        assert!(
            std::time::Instant::now() < deadline,
            "the sentinels never promoted {original}"
        );
        assert!(!served_once(&first, &second, "no master yet").await);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let node = set.nodes.iter_mut().find(|n| n.port == promoted).unwrap();
    node.restart();
    let refused = until_served(&first, &second, "after the kill").await;
    for i in 0..12 {
        replay_refused_by_the_other(&first, &second, &format!("after the kill {i}")).await;
    }
    assert_eq!(metric(&first, "axon_replay_store_up").await, 1);
    let served_during = sent.iter().filter(|(_, s)| *s == 200).count();
    eprintln!(
        "failover: {served_during} of {} served while it ran; the kill: {refused} refused after the promotion",
        sent.len()
    );
}

//! A signed-load generator built on `axon::dendrite::Dendrite`: N connections, each sending
//! fresh signed `Echo` requests one after another (its own dendrite, so nonces arrive in
//! order), for a duration or a count. Prints one JSON line: requests, req/s, latency
//! percentiles (ms) and a status histogram.
//!
//! ```text
//! cargo run --release --example loadgen -- --target 127.0.0.1:8091 \
//!     --hotkey 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY \
//!     --connections 16 --payload 1024 --duration 5
//! cargo run --release --example loadgen -- --crypto-floor 2000   # one sr25519 verify + sign, in µs
//! cargo run --release --example loadgen -- --hash-floor 1048576   # one SHA3 pass + one parse, in µs
//! cargo run --release --example loadgen -- --batch-costs 3000   # sr25519 verify, alone and batched, in µs
//! ```
//!
//! `--scheme btauth` or `--scheme epistula` calls the echo miner's signed-HTTP endpoint
//! `POST /echo` instead (JSON `{"text": ..}` of the payload's size), signed with that scheme.
//!
//! `--fresh-uuids true` gives every request a new dendrite uuid, so each is a new entry in
//! the axon's replay store (`bench/soak.py` uses it). `--source IP` opens the connections
//! from that local address. `--forge true` sends what an attacker without the key sends:
//! each request under the load generator's hotkey but with another key's (well-formed)
//! signature, on kept-alive raw connections; a refusal (401) counts as answered
//! (`bench/flood.py` uses it).
//!
//! `--tls-dir DIR` calls over TLS, pinning the key kept in `DIR` (an axon started with
//! `--axon.tls_generate --axon.tls_dir DIR`), as a validator pins the key published on
//! chain. `--new-connection true` opens a new connection (and handshake) per request
//! (`bench/tls.py` uses both). `--handshakes true` (with `--tls-dir`) sends no request: each
//! connection makes a TLS handshake, closes, and makes another, counting those completed
//! (status 200) and those refused (0); `--spread N` opens connection i from 127.1.0.(i % N
//! + 1), N loopback addresses (`bench/tls.py`'s handshake floods).
//!
//! The benchmark (`bench/run.py`) drives the Rust and the Python axon with it.

use axon::auth::Scheme;
use axon::dendrite::{Dendrite, TlsMode};
use axon::keys::Keypair;
use axon::{AxonInfo, Synapse};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The benchmark's synapse, the same as `echo_miner`'s and the Python axon's.
#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Echo {
    #[hash]
    pub text: String,
    #[hash]
    pub n: i64,
    #[default]
    pub out: Option<String>,
}

struct Args {
    target: String,
    hotkey: String,
    connections: usize,
    payload: usize,
    duration: Option<Duration>,
    count: Option<usize>,
    timeout: Duration,
    fresh_uuids: bool,
    source: Option<std::net::IpAddr>,
    forge: bool,
    /// Call the signed-HTTP endpoint `POST /echo` with this scheme instead of the synapse.
    scheme: Option<Scheme>,
    /// Call over TLS, pinning this key.
    tls: Option<axon::tls::TlsKey>,
    /// A new connection for every request.
    new_connection: bool,
    /// TLS handshakes only, no request.
    handshakes: bool,
    /// Open the connections from this many loopback addresses (127.1.0.1 on).
    spread: Option<u8>,
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("loadgen: {message}");
    std::process::exit(2);
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        target: "127.0.0.1:8091".into(),
        hotkey: String::new(),
        connections: 1,
        payload: 1024,
        duration: None,
        count: None,
        timeout: Duration::from_secs(12),
        fresh_uuids: false,
        source: None,
        forge: false,
        scheme: None,
        tls: None,
        new_connection: false,
        handshakes: false,
        spread: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.parse::<f64>()
                .map_err(|_| format!("{flag}: `{v}` is not a number"))
        };
        let boolean = |v: &str| {
            v.parse::<bool>()
                .map_err(|_| format!("{flag}: `{v}` is not true or false"))
        };
        match flag.as_str() {
            "--target" => args.target = value,
            "--scheme" => {
                args.scheme = Some(match value.as_str() {
                    "btauth" => Scheme::Btauth,
                    "epistula" => Scheme::Epistula,
                    _ => return Err(format!("--scheme: `{value}` is not btauth or epistula")),
                })
            }
            "--hotkey" => args.hotkey = value,
            "--connections" => args.connections = number(&value)? as usize,
            "--payload" => args.payload = number(&value)? as usize,
            "--duration" => args.duration = Some(Duration::from_secs_f64(number(&value)?)),
            "--count" => args.count = Some(number(&value)? as usize),
            "--timeout" => args.timeout = Duration::from_secs_f64(number(&value)?),
            "--fresh-uuids" => args.fresh_uuids = boolean(&value)?,
            "--source" => {
                args.source = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--source: `{value}` is not an IP address"))?,
                )
            }
            "--tls-dir" => {
                let config = axon::tls::TlsConfig::generate_in(&value)
                    .map_err(|e| format!("--tls-dir: {e}"))?;
                args.tls = Some(config.public_key().clone());
            }
            "--new-connection" => args.new_connection = boolean(&value)?,
            "--handshakes" => args.handshakes = boolean(&value)?,
            "--spread" => {
                args.spread = Some(
                    value
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or(format!("--spread: `{value}` is not 1 to 255"))?,
                )
            }
            "--forge" => args.forge = boolean(&value)?,
            "--crypto-floor" => {
                crypto_floor(number(&value)? as usize);
                std::process::exit(0);
            }
            "--hash-floor" => {
                hash_floor(number(&value)? as usize);
                std::process::exit(0);
            }
            "--batch-costs" => {
                batch_costs(number(&value)? as usize);
                std::process::exit(0);
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if args.handshakes && args.tls.is_none() {
        return Err("--handshakes needs --tls-dir (the key to pin)".into());
    }
    if args.hotkey.is_empty() {
        return Err("--hotkey (the axon's SS58 address) is required".into());
    }
    if args.duration.is_none() && args.count.is_none() {
        args.duration = Some(Duration::from_secs(5));
    }
    Ok(args)
}

/// Measures one sr25519 verify plus one sign, the cryptography every served request costs
/// an axon, and prints `{"crypto_floor_us": ..}`.
fn crypto_floor(iterations: usize) {
    let signer = Keypair::from_uri("//Bob").unwrap();
    let message = b"1763000000000000000.5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty.5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY.uuid.a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";
    let public = schnorrkel::PublicKey::from_bytes(&signer.public()).unwrap();
    let context = schnorrkel::signing_context(b"substrate");
    let signature = signature_of(&signer, message);
    let start = Instant::now();
    for _ in 0..iterations {
        assert!(public.verify(context.bytes(message), &signature).is_ok());
        std::hint::black_box(signer.sign(message));
    }
    let per = start.elapsed().as_secs_f64() / iterations.max(1) as f64;
    println!("{{\"crypto_floor_us\": {:.2}}}", per * 1e6);
}

/// `signer`'s signature of `message`, as schnorrkel reads it.
fn signature_of(signer: &Keypair, message: &[u8]) -> schnorrkel::Signature {
    let hex = signer.sign(message);
    let bytes: Vec<u8> = (2..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    schnorrkel::Signature::from_bytes(&bytes).unwrap()
}

/// Measures what an sr25519 verification costs alone and, per signature, in batches of
/// 2 to 64 (distinct signers, as the load generator's connections are), each over about
/// `signatures` signatures, and prints `{"verify_us": .., "batch_us_per_signature":
/// {"2": .., ..}}`: how much batching saves at each size (issue 22).
fn batch_costs(signatures: usize) {
    const SIZES: [usize; 9] = [2, 3, 4, 6, 8, 12, 16, 32, 64];
    let context = schnorrkel::signing_context(b"substrate");
    let signers: Vec<Keypair> = (0..64)
        .map(|i| Keypair::from_uri(&format!("//Loadgen{i}")).unwrap())
        .collect();
    let messages: Vec<String> = (0..64)
        .map(|i| format!("1763000000000000000.{}.5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY.uuid.{i:064x}", signers[i].ss58()))
        .collect();
    let publics: Vec<schnorrkel::PublicKey> = signers
        .iter()
        .map(|s| schnorrkel::PublicKey::from_bytes(&s.public()).unwrap())
        .collect();
    let signatures_made: Vec<schnorrkel::Signature> = signers
        .iter()
        .zip(&messages)
        .map(|(s, m)| signature_of(s, m.as_bytes()))
        .collect();
    let rounds = signatures.max(1);
    let start = Instant::now();
    for i in 0..rounds {
        let k = i % 64;
        let checked = publics[k].verify(context.bytes(messages[k].as_bytes()), &signatures_made[k]);
        assert!(checked.is_ok());
    }
    let single = start.elapsed().as_secs_f64() / rounds as f64;
    let batched: Vec<String> = SIZES
        .iter()
        .map(|&n| {
            let batches = rounds.div_ceil(n);
            let start = Instant::now();
            for _ in 0..batches {
                let transcripts = messages[..n].iter().map(|m| context.bytes(m.as_bytes()));
                let checked = schnorrkel::verify_batch(
                    transcripts,
                    &signatures_made[..n],
                    &publics[..n],
                    true,
                );
                assert!(checked.is_ok());
            }
            let per = start.elapsed().as_secs_f64() / (batches * n) as f64;
            format!("\"{n}\": {:.2}", per * 1e6)
        })
        .collect();
    println!(
        "{{\"verify_us\": {:.2}, \"batch_us_per_signature\": {{{}}}}}",
        single * 1e6,
        batched.join(", ")
    );
}

/// Measures, for an `Echo` request of `payload` bytes of text, one SHA3-256 pass over its
/// hashed fields plus one `serde_json` parse of its JSON body: what any server must spend
/// on the body of a large request (issue 22). Prints `{"hash_floor_us": ..}`.
fn hash_floor(payload: usize) {
    let echo = Echo::new("x".repeat(payload), 7);
    let body = echo.to_json().unwrap();
    let once = || {
        let parsed: Echo = axon::wire::from_json(&body).unwrap();
        let mut hasher = axon::wire::BodyHasher::new();
        hasher.field(parsed.text.as_str());
        hasher.field(&parsed.n);
        std::hint::black_box(hasher.finish());
    };
    // At least 0.5 s of work, so small payloads are timed over many rounds.
    let start = Instant::now();
    let mut rounds = 0u32;
    while rounds < 5 || start.elapsed() < Duration::from_millis(500) {
        once();
        rounds += 1;
    }
    let per = start.elapsed().as_secs_f64() / f64::from(rounds);
    println!("{{\"hash_floor_us\": {:.2}}}", per * 1e6);
}

/// What one forging connection saw: latencies and statuses.
type Seen = (Vec<Duration>, BTreeMap<i64, u64>);

/// One connection sending forged requests (`--forge`): signed by `//Forger` but claiming
/// the hotkey `//Loadgen{i}`, one after another on a kept-alive connection, reconnecting
/// when the axon closes it.
/// A TCP connection to `addr`, from `source` when given; `None` when it fails.
async fn connect(
    addr: std::net::SocketAddr,
    source: Option<std::net::IpAddr>,
) -> Option<tokio::net::TcpStream> {
    let socket = match addr {
        std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
        std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
    }
    .ok()?;
    if let Some(ip) = source {
        socket.bind(std::net::SocketAddr::new(ip, 0)).ok()?;
    }
    socket.connect(addr).await.ok()
}

/// TLS handshakes with `target` (pinning `key`), one after another, each connection closed
/// once its handshake is done: their latencies, and their count as status 200 (completed)
/// or 0 (refused or failed).
async fn handshakes(
    target: Arc<AxonInfo>,
    key: axon::tls::TlsKey,
    source: Option<std::net::IpAddr>,
    deadline: Option<Instant>,
    per_connection: Option<usize>,
) -> Seen {
    let addr: std::net::SocketAddr = format!("{}:{}", target.ip, target.port).parse().unwrap();
    let connector = tokio_rustls::TlsConnector::from(key.client_config());
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let (mut latencies, mut statuses) = (Vec::new(), BTreeMap::new());
    let mut made = 0usize;
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d)
            || per_connection.is_some_and(|c| made >= c)
        {
            break;
        }
        let t = Instant::now();
        let done = async {
            let tcp = connect(addr, source).await?;
            connector.connect(name.clone(), tcp).await.ok()
        };
        let status = match tokio::time::timeout(Duration::from_secs(30), done).await {
            Ok(Some(_)) => 200,
            _ => 0,
        };
        latencies.push(t.elapsed());
        *statuses.entry(status).or_default() += 1;
        made += 1;
    }
    (latencies, statuses)
}

async fn forge(
    target: Arc<AxonInfo>,
    i: usize,
    source: Option<std::net::IpAddr>,
    deadline: Option<Instant>,
    per_connection: Option<usize>,
) -> Seen {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let claimed = Keypair::from_uri(&format!("//Loadgen{i}")).unwrap();
    let forger = Dendrite::new(Keypair::from_uri("//Forger").unwrap());
    let addr: std::net::SocketAddr = format!("{}:{}", target.ip, target.port).parse().unwrap();
    let request = || {
        let mut s = forger.sign(
            &target,
            Echo::new("forged".into(), 1),
            Duration::from_secs(12),
        );
        s.common_mut().dendrite.hotkey = Some(claimed.ss58().to_owned());
        let body = s.to_json().unwrap();
        let mut head = format!(
            "POST /Echo HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (n, v) in s.to_headers().iter() {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("\r\n");
        [head.into_bytes(), body].concat()
    };
    let (mut latencies, mut statuses) = (Vec::new(), BTreeMap::new());
    let (mut bytes, mut made) = (request(), Instant::now());
    let mut conn = None;
    let mut sent = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d)
            || per_connection.is_some_and(|c| sent >= c)
        {
            break;
        }
        // A fresh nonce every few seconds keeps the requests inside their window.
        if made.elapsed() > Duration::from_secs(4) {
            (bytes, made) = (request(), Instant::now());
        }
        if conn.is_none() {
            conn = connect(addr, source).await;
            if conn.is_none() {
                *statuses.entry(0).or_default() += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        }
        let c = conn.as_mut().unwrap();
        let t = Instant::now();
        sent += 1;
        if c.write_all(&bytes).await.is_err() {
            conn = None;
            continue;
        }
        // The answer: its head, then as many body bytes as it declares.
        let mut got = 0;
        let status = loop {
            match c.read(&mut buf[got..]).await {
                Ok(0) | Err(_) => break None,
                Ok(n) => got += n,
            }
            let Some(end) = buf[..got].windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: ")?.trim().parse().ok())
                .unwrap_or(0);
            while got < end + 4 + length {
                match c.read(&mut buf[got..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
            }
            break head.split(' ').nth(1).and_then(|s| s.parse::<i64>().ok());
        };
        match status {
            Some(status) => {
                latencies.push(t.elapsed());
                *statuses.entry(status).or_default() += 1;
            }
            None => conn = None,
        }
    }
    (latencies, statuses)
}

#[tokio::main]
async fn main() {
    let args = parse_args().unwrap_or_else(|e| fail(e));
    let (ip, port) = args
        .target
        .rsplit_once(':')
        .and_then(|(ip, port)| Some((ip.trim_matches(['[', ']']).to_owned(), port.parse().ok()?)))
        .unwrap_or_else(|| fail(format!("--target `{}` is not ip:port", args.target)));
    let target = Arc::new(AxonInfo {
        version: axon::wire::BITTENSOR_VERSION,
        ip,
        port,
        ip_type: 4,
        hotkey: args.hotkey.clone(),
        coldkey: None,
        protocol: 4,
        placeholder1: 0,
        placeholder2: 0,
    });
    let text: Arc<str> = "x".repeat(args.payload).into();
    let deadline = args.duration.map(|d| Instant::now() + d);
    let per_connection = args.count.map(|c| c.div_ceil(args.connections.max(1)));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..args.connections.max(1) {
        let target = target.clone();
        let text = text.clone();
        let timeout = args.timeout;
        let fresh_uuids = args.fresh_uuids;
        let source = match args.spread {
            Some(n) => Some(std::net::IpAddr::from([
                127,
                1,
                0,
                (i % usize::from(n)) as u8 + 1,
            ])),
            None => args.source,
        };
        let scheme = args.scheme;
        let (tls, new_connection) = (args.tls.clone(), args.new_connection);
        if args.handshakes {
            let key = args.tls.clone().expect("checked in parse_args");
            tasks.push(tokio::spawn(handshakes(
                target.clone(),
                key,
                source,
                deadline,
                per_connection,
            )));
            continue;
        }
        if args.forge {
            tasks.push(tokio::spawn(forge(
                target,
                i,
                source,
                deadline,
                per_connection,
            )));
            continue;
        }
        tasks.push(tokio::spawn(async move {
            // One dendrite per connection: its calls are sequential, so its nonces arrive
            // in order at the axon. With `--new-connection`, a new one (a new connection
            // pool) per request.
            let keypair = Keypair::from_uri(&format!("//Loadgen{i}")).unwrap();
            let make = || {
                let mut dendrite = Dendrite::new(keypair.clone());
                if let Some(ip) = source {
                    dendrite = dendrite.local_address(ip);
                }
                if let Some(key) = tls.clone() {
                    dendrite = dendrite.tls(move |_| Some(key.clone()), TlsMode::Require);
                }
                dendrite
            };
            let mut dendrite = make();
            let mut latencies = Vec::new();
            let mut statuses: BTreeMap<i64, u64> = BTreeMap::new();
            let mut sent = 0usize;
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d)
                    || per_connection.is_some_and(|c| sent >= c)
                {
                    break;
                }
                if fresh_uuids {
                    dendrite.renew_uuid();
                }
                if new_connection {
                    dendrite = make();
                }
                let t = Instant::now();
                let status = match scheme {
                    None => {
                        let echo = Echo::new(text.to_string(), sent as i64);
                        let out = dendrite.call(&target, echo, timeout).await;
                        out.dendrite.status_code.unwrap_or(0)
                    }
                    Some(scheme) => {
                        let body = format!("{{\"text\": \"{text}\"}}").into_bytes();
                        let sent = dendrite
                            .send_signed(scheme, "POST", &target, "/echo", body, timeout)
                            .await;
                        sent.map_or(0, |a| i64::from(a.status.as_u16()))
                    }
                };
                latencies.push(t.elapsed());
                *statuses.entry(status).or_default() += 1;
                sent += 1;
            }
            (latencies, statuses)
        }));
    }
    let mut latencies = Vec::new();
    let mut statuses: BTreeMap<i64, u64> = BTreeMap::new();
    for task in tasks {
        let (l, s) = task.await.unwrap();
        latencies.extend(l);
        for (k, v) in s {
            *statuses.entry(k).or_default() += v;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1e3
    };
    let answered = if args.forge { 401 } else { 200 };
    let ok = statuses.get(&answered).copied().unwrap_or(0);
    let histogram: Vec<String> = statuses
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v}"))
        .collect();
    println!(
        "{{\"connections\": {}, \"payload\": {}, \"requests\": {}, \"ok\": {ok}, \"seconds\": {elapsed:.3}, \
         \"rps\": {:.1}, \"p50_ms\": {:.2}, \"p90_ms\": {:.2}, \"p99_ms\": {:.2}, \"max_ms\": {:.2}, \
         \"statuses\": {{{}}}}}",
        args.connections,
        args.payload,
        latencies.len(),
        ok as f64 / elapsed,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0),
        histogram.join(", ")
    );
}

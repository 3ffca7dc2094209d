//! A real subtensor runtime for the chain tests: `tests/chain/start.sh` runs it under
//! chopsticks on a free loopback port, installed from the committed lock file. A missing
//! Node.js fails the test; it is never skipped. The node lives as long as the test process
//! (the script stops it when its stdin closes), one per test binary.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The running node.
pub struct Chain {
    pub port: u16,
    /// The node's last output lines, for a failure's message.
    pub log: Arc<Mutex<Vec<String>>>,
    _child: Mutex<Child>,
}

impl Chain {
    /// `ws://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }
}

/// The test binary's node, started on first use (30-60 s: the runtime's wasm is compiled).
pub fn chain() -> &'static Chain {
    static CHAIN: OnceLock<Chain> = OnceLock::new();
    CHAIN.get_or_init(start)
}

fn start() -> Chain {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/chain/start.sh");
    let mut child = Command::new("sh")
        .arg(&script)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
    let stdout = child.stdout.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let kept = log.clone();
    // Reads the node's output to its end (a full pipe would stall it), keeping the tail.
    std::thread::spawn(move || {
        let mut ready = Some(ready_tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("RPC listening on") {
                if let Some(tx) = ready.take() {
                    let _ = tx.send(());
                }
            }
            let mut log = kept.lock().unwrap();
            log.push(line);
            let excess = log.len().saturating_sub(200);
            log.drain(..excess);
        }
    });
    let started = Instant::now();
    if ready_rx.recv_timeout(Duration::from_secs(300)).is_err() {
        let _ = child.kill();
        panic!(
            "the chain did not start within {:?} (exit: {:?}); its output:\n{}",
            started.elapsed(),
            child.try_wait(),
            log.lock().unwrap().join("\n")
        );
    }
    eprintln!(
        "chain: chopsticks ready on {port} after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Chain {
        port,
        log,
        _child: Mutex::new(child),
    }
}

/// A TCP relay to the node that the test can take down and bring back: the node keeps its
/// state while the axon sees it vanish (chopsticks keeps nothing across a restart).
pub struct Relay {
    pub port: u16,
    up: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    /// Relays `127.0.0.1:PORT` to the node; runs on the caller's runtime.
    pub async fn start(node: u16) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !*watch.borrow() {
                    continue; // down: the connection is closed at once
                }
                let mut down = watch.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(("127.0.0.1", node)).await
                    else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = down.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Relay { port, up }
    }

    /// `ws://127.0.0.1:PORT` through the relay.
    pub fn endpoint(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Cuts every connection and refuses new ones until [`up`](Relay::up).
    pub fn down(&self) {
        self.up.send_replace(false);
    }

    /// Relays again.
    pub fn up(&self) {
        self.up.send_replace(true);
    }
}

/// The real bittensor's reading of the chain (`tests/python/chain_read.py`).
pub fn python_reads(netuid: u16, hotkeys: &[&str]) -> serde_json::Value {
    python_reads_at(netuid, "best", hotkeys)
}

/// [`python_reads`] at block `at` (a hash, or `best`).
pub fn python_reads_at(netuid: u16, at: &str, hotkeys: &[&str]) -> serde_json::Value {
    let netuid = netuid.to_string();
    let endpoint = chain().endpoint();
    let mut args = vec![endpoint.as_str(), netuid.as_str(), at];
    args.extend(hotkeys);
    super::result_line(&super::run_python_script_with("chain_read.py", &args))
}

/// Waits until `condition` holds, yielding between checks; fails the test after 30 s.
pub async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let wait = async {
        while !condition() {
            tokio::task::yield_now().await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .is_err()
    {
        panic!("{what}: not within 30 s");
    }
}

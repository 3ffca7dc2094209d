//! The example miner as an operator runs it: SIGTERM or SIGINT under load drains it (every
//! request that reached a forward is answered, then it exits 0), and a start that fails
//! exits non-zero with the reason.
//!
//! The test builds `examples/echo_miner` with the cargo running it, starts it on a free
//! loopback port, and calls it with Rust dendrites.

mod support;

use axon::dendrite::Dendrite;
use axon::keys::Keypair;
use axon::AxonInfo;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::Echo;
use tokio::io::AsyncReadExt;
use tokio::process::Child;
use tokio::sync::Notify;

/// The `echo_miner` binary, built once per test run.
fn echo_miner() -> PathBuf {
    support::example("echo_miner")
}

struct Miner {
    child: Child,
    port: u16,
    stdout: std::thread::JoinHandle<String>,
}

/// Starts the miner with `args` and waits (at most 60 s) until it listens.
async fn start(args: &[&str]) -> Miner {
    let mut child = tokio::process::Command::new(echo_miner())
        .args(["--axon.port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start echo_miner");
    let stdout = child.stdout.take().unwrap().into_owned_fd().unwrap();
    let mut lines = BufReader::new(std::fs::File::from(stdout)).lines();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = std::thread::spawn(move || {
        let mut seen = String::new();
        let mut tx = Some(tx);
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(addr) = line.strip_prefix("echo_miner: listening on ") {
                let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
                if let Some(tx) = tx.take() {
                    tx.send(port).unwrap();
                }
            }
            seen.push_str(&line);
            seen.push('\n');
        }
        seen
    });
    let port = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
        .await
        .unwrap()
        .expect("echo_miner listening within 60 s");
    Miner {
        child,
        port,
        stdout,
    }
}

fn alice(port: u16) -> AxonInfo {
    support::loopback_alice(port)
}

/// Waits for the process to exit (at most 60 s; it is killed otherwise) and returns its
/// exit code.
async fn exit_code(child: &mut Child) -> i32 {
    match tokio::time::timeout(Duration::from_secs(60), child.wait()).await {
        Ok(status) => status
            .unwrap()
            .code()
            .expect("exited, not killed by a signal"),
        Err(_) => {
            let _ = child.kill().await;
            panic!("the miner did not exit within 60 s");
        }
    }
}

/// Calls `POST /echo` with Epistula in a loop, as `drain_under_load`'s synapse clients do:
/// the calls answered 200, then how the first other one ended (503, or no connection: the
/// listener is closed).
async fn signed_loop(
    dendrite: &Dendrite,
    target: &AxonInfo,
    c: usize,
    answered: &AtomicUsize,
    enough: &Notify,
    before: usize,
) -> (usize, Option<i64>, Option<String>) {
    for i in 0usize.. {
        let text = format!("c{c}-{i}");
        let body = serde_json::json!({ "text": text }).to_string().into_bytes();
        let scheme = axon::auth::Scheme::Epistula;
        let sent = dendrite
            .send_signed(
                scheme,
                "POST",
                target,
                "/echo",
                body,
                Duration::from_secs(10),
            )
            .await;
        let answer = match sent {
            Ok(answer) if answer.status == 200 => answer,
            Ok(answer) => {
                let body = String::from_utf8_lossy(&answer.body).into_owned();
                return (i, Some(answer.status.as_u16().into()), Some(body));
            }
            // No answer but the connection's end (refused, or a kept-alive one closed by the
            // drain): as the synapse dendrite reports it, 503. That no request was lost is
            // the miner's count below.
            Err(e) if !e.is_timeout() => return (i, Some(503), Some(e.to_string())),
            Err(e) => return (i, None, Some(e.to_string())),
        };
        let out: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(out["out"], text.chars().rev().collect::<String>());
        if answered.fetch_add(1, Ordering::SeqCst) + 1 == before {
            enough.notify_one();
        }
    }
    unreachable!()
}

/// `clients` dendrites call the miner in loops (every other one the signed-HTTP endpoint); once `before` calls were answered the miner
/// gets `signal`. Each client stops at its first call not answered 200.
async fn drain_under_load(signal: &str, clients: usize, before: usize) {
    let mut miner = start(&[]).await;
    let target = alice(miner.port);
    let answered = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (target, answered, enough) = (target.clone(), answered.clone(), enough.clone());
        tasks.push(tokio::spawn(async move {
            let dendrite = Dendrite::new(Keypair::from_uri(&format!("//Client{c}")).unwrap());
            // Every other client calls the signed-HTTP endpoint `POST /echo` (Epistula).
            if c % 2 == 1 {
                return signed_loop(&dendrite, &target, c, &answered, &enough, before).await;
            }
            for i in 0usize.. {
                let text = format!("c{c}-{i}");
                let out = dendrite
                    .call(
                        &target,
                        Echo::new(text.clone(), i as i64),
                        Duration::from_secs(10),
                    )
                    .await;
                if out.dendrite.status_code != Some(200) {
                    // `i` calls were answered 200 before this one.
                    return (i, out.dendrite.status_code, out.dendrite.status_message);
                }
                assert_eq!(out.out, Some(text.chars().rev().collect()));
                if answered.fetch_add(1, Ordering::SeqCst) + 1 == before {
                    enough.notify_one();
                }
            }
            unreachable!()
        }));
    }
    tokio::time::timeout(Duration::from_secs(60), enough.notified())
        .await
        .expect("the load was served");
    let pid = miner.child.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap();
    assert!(killed.success());

    let mut served_to_clients = 0;
    for task in tasks {
        let (mine, status, message) = tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("every client saw the miner stop")
            .unwrap();
        served_to_clients += mine;
        // After the drain began: refused, never a timeout or a half answer.
        assert_eq!(status, Some(503), "{message:?}");
    }
    assert_eq!(exit_code(&mut miner.child).await, 0);
    let stdout = miner.stdout.join().unwrap();
    assert!(
        stdout.contains(&format!("echo_miner: SIG{signal}: draining")),
        "{stdout}"
    );
    // Every request that reached the forward was answered to its client.
    assert!(
        stdout.contains(&format!(
            "echo_miner: stopped after {served_to_clients} echoes\n"
        )),
        "{served_to_clients} answered 200:\n{stdout}"
    );
    assert!(served_to_clients >= before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_answers_every_accepted_request() {
    drain_under_load("TERM", 16, 2000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_drains_too() {
    drain_under_load("INT", 4, 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_start_exits_non_zero_with_the_reason() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for args in [
        vec!["--axon.port", port.as_str()],
        vec!["--ops", &format!("127.0.0.1:{port}")],
        vec!["--dev-key", "not a uri"],
    ] {
        let mut child = tokio::process::Command::new(echo_miner())
            .args(if args[0] == "--axon.port" {
                vec![]
            } else {
                vec!["--axon.port", "0"]
            })
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut stderr = String::new();
        let mut pipe = child.stderr.take().unwrap();
        assert_eq!(exit_code(&mut child).await, 1, "{args:?}");
        pipe.read_to_string(&mut stderr).await.unwrap();
        let expected = match args[0] {
            "--axon.port" => format!("cannot listen on 127.0.0.1:{port}: "),
            "--ops" => format!("cannot listen on 127.0.0.1:{port} (operations): "),
            _ => "echo_miner: `not a uri` is not a development key URI: write one like `//Alice`"
                .to_owned(),
        };
        assert!(stderr.contains(&expected), "{args:?}: {stderr}");
        assert!(stderr.starts_with("echo_miner: "), "{args:?}: {stderr}");
    }
}

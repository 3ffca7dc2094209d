//! Scheduling over HTTP: at most `max_workers` forwards at once, waiting requests served by
//! priority, a full queue answered 503 at once, and both 408s (expired while waiting, and a
//! forward that outlived its timeout, cancelled). One axon with one worker; its forward
//! holds while the test keeps a gate closed, so every queue state is reached by signals.

mod support;

use axon::keys::Keypair;
use axon::{Axon, Load};
use std::sync::{Arc, Mutex};
use support::http::{exchange, request_bytes, sign, Answer};
use tokio::sync::{mpsc, watch};

#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Job {
    #[hash]
    pub id: String,
}

/// The ids the forward started, in order.
#[derive(Default)]
pub struct Started(Mutex<Vec<String>>);

/// Opens when the test sends `true`; jobs named `hold*` wait for it.
pub struct Gate(watch::Receiver<bool>);

/// Told when a cancelled forward is dropped.
pub struct Cancelled(mpsc::UnboundedSender<String>);

/// Reports its id when dropped before finishing: the forward was cancelled.
struct OnCancel(Option<(String, mpsc::UnboundedSender<String>)>);

impl Drop for OnCancel {
    fn drop(&mut self) {
        if let Some((id, tx)) = self.0.take() {
            let _ = tx.send(id);
        }
    }
}

#[axon::forward]
async fn job(
    s: Job,
    started: State<Started>,
    gate: State<Gate>,
    cancelled: State<Cancelled>,
) -> Job {
    started.0.lock().unwrap().push(s.id.clone());
    if s.id.starts_with("hold") {
        let mut open = gate.0.clone();
        open.wait_for(|o| *o).await.unwrap();
    }
    if s.id.starts_with("hang") {
        let mut guard = OnCancel(Some((s.id.clone(), cancelled.0.clone())));
        std::future::pending::<()>().await;
        guard.0 = None;
    }
    s
}

use axon::State;

/// The same jobs as a signed-HTTP endpoint (btauth/1): one queue holds both kinds.
#[axon::endpoint(POST "/v1/job", auth = btauth, priority = endpoint_priority)]
async fn job_endpoint(
    started: State<Started>,
    gate: State<Gate>,
    cancelled: State<Cancelled>,
    id: String,
) -> String {
    let s = job(Job::new(id), started, gate, cancelled).await;
    s.id
}

/// An endpoint with a timeout of its own.
#[axon::endpoint(POST "/v1/brief", auth = btauth, timeout = 0.3)]
async fn brief_endpoint(
    started: State<Started>,
    gate: State<Gate>,
    cancelled: State<Cancelled>,
    id: String,
) -> String {
    job_endpoint(started, gate, cancelled, id).await
}

/// Bob's validator key outranks Charlie's at the endpoint too.
fn endpoint_priority(caller: &axon::auth::Caller) -> f64 {
    match caller.hotkey == ss58("//Bob") {
        true => 10.0,
        false => 1.0,
    }
}

/// Bob's validator key outranks Charlie's.
#[axon::priority]
fn by_caller(s: &Job) -> f64 {
    match s.dendrite.hotkey.as_deref() {
        Some(h) if h == ss58("//Bob") => 10.0,
        _ => 1.0,
    }
}

fn ss58(uri: &str) -> String {
    Keypair::from_uri(uri).unwrap().ss58().to_owned()
}

fn alice() -> Keypair {
    Keypair::from_uri("//Alice").unwrap()
}

/// A signed `Job` request from `uri` with `timeout` seconds.
fn job_request(id: &str, from: &str, timeout: f64) -> Vec<u8> {
    let mut s = Job::new(id.into());
    s.timeout = Some(timeout);
    let s = sign(s, &Keypair::from_uri(from).unwrap(), alice().ss58());
    request_bytes("Job", &s, &[])
}

struct Fixture {
    axon: Axon,
    started: Arc<Started>,
    open: watch::Sender<bool>,
    cancelled: mpsc::UnboundedReceiver<String>,
}

async fn fixture(max_waiting: usize) -> Fixture {
    let started = Arc::new(Started::default());
    let (open, gate) = watch::channel(false);
    let (cancel_tx, cancelled) = mpsc::unbounded_channel();
    let mut axon = Axon::from_registry()
        .hotkey(alice())
        .ip("127.0.0.1")
        .port(0)
        .max_workers(1)
        .max_waiting(max_waiting)
        .state_arc(started.clone())
        .state(Gate(gate))
        .state(Cancelled(cancel_tx));
    axon.start().await.unwrap();
    Fixture {
        axon,
        started,
        open,
        cancelled,
    }
}

impl Fixture {
    /// Sends a request in the background.
    fn send(&self, bytes: Vec<u8>) -> tokio::task::JoinHandle<Answer> {
        let addr = self.axon.local_addr().unwrap();
        tokio::spawn(async move { exchange(addr, &bytes).await })
    }

    /// Waits until the axon shows `load` (each request reaching the queue changes it).
    async fn until(&self, load: Load) {
        while self.axon.load() != Some(load) {
            tokio::task::yield_now().await;
        }
    }

    /// Sends a signed-HTTP request for job `id` from `from` to `path` in the background:
    /// its status and body.
    fn send_signed(
        &self,
        path: &'static str,
        id: &str,
        from: &str,
    ) -> tokio::task::JoinHandle<(u16, String)> {
        let target = support::loopback_alice(self.axon.local_addr().unwrap().port());
        let dendrite = axon::dendrite::Dendrite::new(Keypair::from_uri(from).unwrap());
        let body = id.as_bytes().to_vec();
        tokio::spawn(async move {
            let scheme = axon::auth::Scheme::Btauth;
            let timeout = std::time::Duration::from_secs(30);
            let answer = dendrite
                .send_signed(scheme, "POST", &target, path, body, timeout)
                .await
                .unwrap();
            let body = String::from_utf8_lossy(&answer.body).into_owned();
            (answer.status.as_u16(), body)
        })
    }

    fn started(&self) -> Vec<String> {
        self.started.0.lock().unwrap().clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_high_priority_request_queued_behind_low_ones_runs_first() {
    let mut f = fixture(8).await;
    let hold = f.send(job_request("hold", "//Charlie", 30.0));
    f.until(Load {
        running: 1,
        waiting: 0,
    })
    .await;
    let mut queued = Vec::new();
    for (i, (id, from)) in [
        ("low-1", "//Charlie"),
        ("low-2", "//Charlie"),
        ("high", "//Bob"),
    ]
    .into_iter()
    .enumerate()
    {
        queued.push(f.send(job_request(id, from, 30.0)));
        f.until(Load {
            running: 1,
            waiting: i + 1,
        })
        .await;
    }
    f.open.send(true).unwrap();
    assert_eq!(hold.await.unwrap().status, 200);
    for answer in queued {
        assert_eq!(answer.await.unwrap().status, 200);
    }
    assert_eq!(f.started(), ["hold", "high", "low-1", "low-2"]);
    f.axon.stop().await;
    assert!(f.cancelled.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_is_503_at_once_and_a_wait_past_the_timeout_is_408() {
    let mut f = fixture(1).await;
    let hold = f.send(job_request("hold", "//Charlie", 30.0));
    f.until(Load {
        running: 1,
        waiting: 0,
    })
    .await;

    // Queued with a 0.3 s timeout; the worker stays busy: 408, and it never runs.
    let expired = f
        .send(job_request("expires-waiting", "//Bob", 0.3))
        .await
        .unwrap();
    assert_eq!(expired.status, 408);
    assert_eq!(
        expired.body["message"],
        "Request timed out after 0.3s while waiting for a worker; the forward never ran"
    );
    assert_eq!(expired.header("bt_header_axon_status_code"), Some("408"));

    let waiting = f.send(job_request("waits", "//Charlie", 30.0));
    f.until(Load {
        running: 1,
        waiting: 1,
    })
    .await;
    let full = f.send(job_request("refused", "//Bob", 30.0)).await.unwrap();
    assert_eq!(full.status, 503);
    assert_eq!(
        full.body["message"],
        "The axon is busy: 1 requests are being served and 1 are waiting (priority.maxsize); retry later"
    );

    f.open.send(true).unwrap();
    assert_eq!(hold.await.unwrap().status, 200);
    assert_eq!(waiting.await.unwrap().status, 200);
    assert_eq!(f.started(), ["hold", "waits"]);
    f.axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_outliving_its_timeout_is_cancelled_with_408_and_frees_its_worker() {
    let mut f = fixture(4).await;
    let hung = f.send(job_request("hang", "//Bob", 0.3)).await.unwrap();
    assert_eq!(hung.status, 408);
    assert_eq!(
        hung.body["message"],
        "Request timed out after 0.3s in its forward, which was cancelled"
    );
    assert_eq!(f.cancelled.recv().await.as_deref(), Some("hang"));
    // Its worker is free again: the one worker serves the next request.
    f.until(Load {
        running: 0,
        waiting: 0,
    })
    .await;
    f.open.send(true).unwrap();
    let next = f
        .send(job_request("hold-after", "//Bob", 5.0))
        .await
        .unwrap();
    assert_eq!(next.status, 200);
    assert_eq!(f.started(), ["hang", "hold-after"]);
    f.axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_requests_wait_in_the_synapses_queue_by_priority() {
    let mut f = fixture(8).await;
    let hold = f.send(job_request("hold", "//Charlie", 30.0));
    f.until(Load {
        running: 1,
        waiting: 0,
    })
    .await;
    let low_1 = f.send_signed("/v1/job", "low-1", "//Charlie");
    f.until(Load {
        running: 1,
        waiting: 1,
    })
    .await;
    let low_2 = f.send(job_request("low-2", "//Charlie", 30.0));
    f.until(Load {
        running: 1,
        waiting: 2,
    })
    .await;
    let high = f.send_signed("/v1/job", "high", "//Bob");
    f.until(Load {
        running: 1,
        waiting: 3,
    })
    .await;
    f.open.send(true).unwrap();
    assert_eq!(hold.await.unwrap().status, 200);
    assert_eq!(high.await.unwrap(), (200, "high".to_owned()));
    assert_eq!(low_1.await.unwrap(), (200, "low-1".to_owned()));
    assert_eq!(low_2.await.unwrap().status, 200);
    assert_eq!(f.started(), ["hold", "high", "low-1", "low-2"]);
    f.axon.stop().await;
    assert!(f.cancelled.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_outliving_its_timeout_is_408_and_cancelled() {
    let mut f = fixture(8).await;
    let (status, body) = f.send_signed("/v1/brief", "hang-e", "//Bob").await.unwrap();
    assert_eq!(status, 408, "{body}");
    let message: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        message["message"],
        "Request timed out after 0.3s in its handler, which was cancelled"
    );
    assert_eq!(f.cancelled.recv().await.as_deref(), Some("hang-e"));
    assert_eq!(f.started(), ["hang-e"]);
}

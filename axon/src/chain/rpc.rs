//! JSON-RPC over one WebSocket (`ws://` or `wss://`), shared by every caller: calls,
//! subscriptions, and a reconnect with backoff after the node goes away.

use super::ChainError;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// How long one call waits for its answer.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A live subscription: the notifications' `result`s, until the connection closes.
pub type Notifications = mpsc::UnboundedReceiver<Json>;

enum Pending {
    Call(oneshot::Sender<Result<Json, ChainError>>),
    Subscribe(oneshot::Sender<Result<Notifications, ChainError>>),
}

struct Request {
    method: String,
    params: Json,
    pending: Pending,
}

/// The shared connection to a node.
pub struct Rpc {
    endpoint: String,
    state: Mutex<Link>,
    /// One dial at a time: callers that find no connection wait for the same one.
    dialing: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Link {
    live: Option<mpsc::UnboundedSender<Request>>,
    failures: u32,
    retry_at: Option<Instant>,
}

impl Rpc {
    /// A client of `endpoint`; nothing is dialled until the first call.
    pub fn new(endpoint: &str) -> Rpc {
        Rpc {
            endpoint: endpoint.to_owned(),
            state: Mutex::new(Link::default()),
            dialing: tokio::sync::Mutex::new(()),
        }
    }

    /// The endpoint dialled.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Calls `method` and returns its `result`.
    pub async fn call(&self, method: &str, params: Json) -> Result<Json, ChainError> {
        let (tx, rx) = oneshot::channel();
        self.send(method, params, Pending::Call(tx)).await?;
        self.wait(method, rx).await?
    }

    /// Subscribes with `method`; the notifications arrive on the returned channel.
    pub async fn subscribe(&self, method: &str, params: Json) -> Result<Notifications, ChainError> {
        let (tx, rx) = oneshot::channel();
        self.send(method, params, Pending::Subscribe(tx)).await?;
        self.wait(method, rx).await?
    }

    async fn wait<T>(&self, method: &str, rx: oneshot::Receiver<T>) -> Result<T, ChainError> {
        match tokio::time::timeout(CALL_TIMEOUT, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(self.disconnected("the connection closed before the answer")),
            Err(_) => Err(ChainError::Timeout {
                endpoint: self.endpoint.clone(),
                what: method.to_owned(),
                after: CALL_TIMEOUT,
            }),
        }
    }

    fn disconnected(&self, cause: &str) -> ChainError {
        ChainError::Unreachable {
            endpoint: self.endpoint.clone(),
            cause: cause.to_owned(),
        }
    }

    async fn send(&self, method: &str, params: Json, pending: Pending) -> Result<(), ChainError> {
        let request = Request {
            method: method.to_owned(),
            params,
            pending,
        };
        let request = match self.live() {
            Some(live) => match live.send(request) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(request)) => request,
            },
            None => request,
        };
        let dialing = self.dialing.lock().await;
        let live = match self.live() {
            Some(live) => live,
            None => self.connect().await?,
        };
        drop(dialing);
        live.send(request)
            .map_err(|_| self.disconnected("the connection closed at once"))
    }

    fn live(&self) -> Option<mpsc::UnboundedSender<Request>> {
        let state = self.state.lock().unwrap();
        state.live.as_ref().filter(|l| !l.is_closed()).cloned()
    }

    /// Dials the node, unless the last attempts failed and the backoff has not passed: then
    /// it fails at once, saying when it tries again.
    async fn connect(&self) -> Result<mpsc::UnboundedSender<Request>, ChainError> {
        if let Some(at) = self.state.lock().unwrap().retry_at {
            let now = Instant::now();
            if at > now {
                return Err(self.disconnected(&format!(
                    "the last attempt failed; the next one is in {:.1} s",
                    (at - now).as_secs_f64()
                )));
            }
        }
        match tokio::time::timeout(CONNECT_TIMEOUT, dial(&self.endpoint)).await {
            Ok(Ok(stream)) => {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(run(stream, rx, self.endpoint.clone()));
                let mut state = self.state.lock().unwrap();
                *state = Link {
                    live: Some(tx.clone()),
                    failures: 0,
                    retry_at: None,
                };
                tracing::debug!(endpoint = %self.endpoint, "connected to the chain");
                Ok(tx)
            }
            Ok(Err(cause)) => Err(self.failed(cause)),
            Err(_) => Err(self.failed(format!("no answer within {CONNECT_TIMEOUT:?}"))),
        }
    }

    fn failed(&self, cause: String) -> ChainError {
        let mut state = self.state.lock().unwrap();
        state.failures += 1;
        let backoff = Duration::from_millis(250 << state.failures.min(7)).min(MAX_BACKOFF);
        state.retry_at = Some(Instant::now() + backoff);
        self.disconnected(&cause)
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn dial(endpoint: &str) -> Result<Socket, String> {
    let connector = if endpoint.starts_with("wss://") {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Some(tokio_tungstenite::Connector::Rustls(Arc::new(config)))
    } else {
        None
    };
    let mut ws = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default();
    ws.max_message_size = Some(64 << 20);
    tokio_tungstenite::connect_async_tls_with_config(endpoint, Some(ws), false, connector)
        .await
        .map(|(stream, _)| stream)
        .map_err(|e| e.to_string())
}

/// The connection's task: writes requests, routes answers and notifications. It ends when
/// the node closes the connection, or when the client is gone and nothing is pending.
async fn run(socket: Socket, mut requests: mpsc::UnboundedReceiver<Request>, endpoint: String) {
    let (mut sink, mut stream) = socket.split();
    let mut next_id: u64 = 1;
    let mut pending: HashMap<u64, Pending> = HashMap::new();
    let mut subscriptions: HashMap<String, mpsc::UnboundedSender<Json>> = HashMap::new();
    let mut open = true;
    while open || !pending.is_empty() {
        tokio::select! {
            request = requests.recv(), if open => {
                let Some(request) = request else {
                    open = false;
                    continue;
                };
                let id = next_id;
                next_id += 1;
                let text = json!({"jsonrpc": "2.0", "id": id, "method": request.method, "params": request.params});
                if sink.send(Message::Text(text.to_string().into())).await.is_err() {
                    break;
                }
                pending.insert(id, request.pending);
            }
            message = stream.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(bytes))) => match String::from_utf8(bytes.to_vec()) {
                        Ok(text) => text.into(),
                        Err(_) => continue,
                    },
                    Some(Ok(_)) => continue,
                    _ => break,
                };
                let Ok(message) = serde_json::from_str::<Json>(&text) else { continue };
                route(message, &mut pending, &mut subscriptions);
            }
        }
    }
    for (_, p) in pending.drain() {
        let error = ChainError::Unreachable {
            endpoint: endpoint.clone(),
            cause: "the connection closed before the answer".into(),
        };
        match p {
            Pending::Call(tx) => drop(tx.send(Err(error))),
            Pending::Subscribe(tx) => drop(tx.send(Err(error))),
        }
    }
}

fn route(
    message: Json,
    pending: &mut HashMap<u64, Pending>,
    subscriptions: &mut HashMap<String, mpsc::UnboundedSender<Json>>,
) {
    if let Some(id) = message.get("id").and_then(Json::as_u64) {
        let Some(waiting) = pending.remove(&id) else {
            return;
        };
        let answer = match message.get("error") {
            Some(error) => Err(ChainError::Rpc {
                code: error.get("code").and_then(Json::as_i64).unwrap_or_default(),
                message: error
                    .get("message")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                data: error.get("data").map(|d| match d {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                }),
            }),
            None => Ok(message.get("result").cloned().unwrap_or(Json::Null)),
        };
        match waiting {
            Pending::Call(tx) => drop(tx.send(answer)),
            Pending::Subscribe(tx) => {
                let answer = answer.map(|id| {
                    let id = match id {
                        Json::String(s) => s,
                        other => other.to_string(),
                    };
                    let (notify, notifications) = mpsc::unbounded_channel();
                    subscriptions.insert(id, notify);
                    notifications
                });
                drop(tx.send(answer));
            }
        }
    } else if let Some(params) = message.get("params") {
        let id = match params.get("subscription") {
            Some(Json::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => return,
        };
        if let Some(notify) = subscriptions.get(&id) {
            if notify
                .send(params.get("result").cloned().unwrap_or(Json::Null))
                .is_err()
            {
                subscriptions.remove(&id);
            }
        }
    }
}

//! JSON-RPC over one WebSocket (`ws://` or `wss://`), shared by every caller: calls,
//! subscriptions, and a reconnect with backoff after the node goes away.
//!
//! What the node sends is bounded: one message is at most [`MAX_MESSAGE`] bytes, answers
//! are kept only for calls waiting for them, and a subscription holds at most
//! [`SUBSCRIPTION_BUFFER`] notifications its reader has not taken. A node that sends more is
//! unsubscribed (its unsubscribe method is sent) and the reader sees the end of the
//! subscription, with [`Notifications::overflowed`] true. A subscription its reader drops is
//! unsubscribed too. (The queue of requests to write is fed by this process's own callers,
//! one entry per call in flight, not by the node.)

use super::ChainError;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// How long one call waits for its answer.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The largest message read from the node (the runtime's metadata is a few MiB).
pub const MAX_MESSAGE: usize = 64 << 20;

/// The notifications a subscription holds before its reader takes them.
pub const SUBSCRIPTION_BUFFER: usize = 16;

/// A live subscription: the notifications' `result`s, until the connection closes, the node
/// sends more than [`SUBSCRIPTION_BUFFER`] the reader has not taken, or it is dropped (then
/// the node is sent its unsubscribe method).
#[derive(Debug)]
pub struct Notifications {
    updates: mpsc::Receiver<Json>,
    overflowed: Arc<AtomicBool>,
    /// Where to send the unsubscribe when dropped: the connection, while it lives.
    connection: mpsc::WeakUnboundedSender<Request>,
    id: String,
    unsubscribe: String,
}

impl Notifications {
    /// The next notification; `None` once the subscription ended.
    pub async fn recv(&mut self) -> Option<Json> {
        self.updates.recv().await
    }

    /// Whether the subscription ended because the node sent more than the buffer holds.
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    /// The notifications waiting to be read.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.updates.len()
    }
}

impl Drop for Notifications {
    fn drop(&mut self) {
        if self.overflowed() {
            return; // already unsubscribed by the connection
        }
        if let Some(connection) = self.connection.upgrade() {
            let _ = connection.send(Request {
                method: self.unsubscribe.clone(),
                params: json!([self.id]),
                pending: Pending::Unsubscribe(self.id.clone()),
            });
        }
    }
}

enum Pending {
    Call(oneshot::Sender<Result<Json, ChainError>>),
    Subscribe {
        answer: oneshot::Sender<Result<Notifications, ChainError>>,
        /// The method that ends it (`author_unwatchExtrinsic`).
        unsubscribe: String,
    },
    /// An unsubscribe sent for subscription `id`: its answer is not awaited.
    Unsubscribe(String),
    Ignored,
}

/// A subscription as the connection's task holds it.
struct Subscription {
    notify: mpsc::Sender<Json>,
    overflowed: Arc<AtomicBool>,
    unsubscribe: String,
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

    /// Subscribes with `method`; the notifications arrive on the returned channel, and
    /// `unsubscribe` ends the subscription when it is dropped or overflows.
    pub async fn subscribe(
        &self,
        method: &str,
        params: Json,
        unsubscribe: &str,
    ) -> Result<Notifications, ChainError> {
        let (tx, rx) = oneshot::channel();
        let pending = Pending::Subscribe {
            answer: tx,
            unsubscribe: unsubscribe.to_owned(),
        };
        self.send(method, params, pending).await?;
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
                tokio::spawn(run(stream, rx, tx.downgrade(), self.endpoint.clone()));
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
    ws.max_message_size = Some(MAX_MESSAGE);
    ws.max_frame_size = Some(MAX_MESSAGE);
    tokio_tungstenite::connect_async_tls_with_config(endpoint, Some(ws), false, connector)
        .await
        .map(|(stream, _)| stream)
        .map_err(|e| e.to_string())
}

/// The connection's task: writes requests, routes answers and notifications. It ends when
/// the node closes the connection, or when the client is gone and nothing is pending.
async fn run(
    socket: Socket,
    mut requests: mpsc::UnboundedReceiver<Request>,
    connection: mpsc::WeakUnboundedSender<Request>,
    endpoint: String,
) {
    let (mut sink, mut stream) = socket.split();
    let mut next_id: u64 = 1;
    let mut pending: HashMap<u64, Pending> = HashMap::new();
    let mut subscriptions: HashMap<String, Subscription> = HashMap::new();
    let mut open = true;
    while open || pending.values().any(|p| !matches!(p, Pending::Ignored)) {
        tokio::select! {
            request = requests.recv(), if open => {
                let Some(mut request) = request else {
                    open = false;
                    continue;
                };
                if let Pending::Unsubscribe(id) = &request.pending {
                    subscriptions.remove(id);
                    request.pending = Pending::Ignored;
                }
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
                let Some((method, id)) = route(message, &mut pending, &mut subscriptions, &connection) else {
                    continue;
                };
                // A subscription that overflowed: tell the node to stop.
                let request = json!({"jsonrpc": "2.0", "id": next_id, "method": method, "params": [id]});
                pending.insert(next_id, Pending::Ignored);
                next_id += 1;
                if sink.send(Message::Text(request.to_string().into())).await.is_err() {
                    break;
                }
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
            Pending::Subscribe { answer, .. } => drop(answer.send(Err(error))),
            Pending::Unsubscribe(_) | Pending::Ignored => {}
        }
    }
}

/// Routes one message from the node: an answer to its caller, a notification to its
/// subscription. Returns the unsubscribe to send (method and subscription id) when a
/// subscription overflowed.
fn route(
    message: Json,
    pending: &mut HashMap<u64, Pending>,
    subscriptions: &mut HashMap<String, Subscription>,
    connection: &mpsc::WeakUnboundedSender<Request>,
) -> Option<(String, String)> {
    if let Some(id) = message.get("id").and_then(Json::as_u64) {
        let waiting = pending.remove(&id)?;
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
            Pending::Subscribe {
                answer: tx,
                unsubscribe,
            } => {
                let answer = answer.map(|id| {
                    let id = match id {
                        Json::String(s) => s,
                        other => other.to_string(),
                    };
                    let (notify, updates) = mpsc::channel(SUBSCRIPTION_BUFFER);
                    let overflowed = Arc::new(AtomicBool::new(false));
                    subscriptions.insert(
                        id.clone(),
                        Subscription {
                            notify,
                            overflowed: overflowed.clone(),
                            unsubscribe: unsubscribe.clone(),
                        },
                    );
                    Notifications {
                        updates,
                        overflowed,
                        connection: connection.clone(),
                        id,
                        unsubscribe,
                    }
                });
                drop(tx.send(answer));
            }
            Pending::Unsubscribe(_) | Pending::Ignored => {}
        }
        None
    } else {
        let params = message.get("params")?;
        let id = match params.get("subscription")? {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        let subscription = subscriptions.get(&id)?;
        let update = params.get("result").cloned().unwrap_or(Json::Null);
        match subscription.notify.try_send(update) {
            Ok(()) => None,
            // The reader is gone; its drop sends the unsubscribe.
            Err(mpsc::error::TrySendError::Closed(_)) => {
                subscriptions.remove(&id);
                None
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                let subscription = subscriptions.remove(&id)?;
                subscription.overflowed.store(true, Ordering::Release);
                tracing::warn!(
                    subscription = %id,
                    "the node sent more than {SUBSCRIPTION_BUFFER} notifications unread: \
                     unsubscribed ({})",
                    subscription.unsubscribe
                );
                Some((subscription.unsubscribe, id))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A node on loopback that answers one subscription with id `sub-1`, then sends `flood`
    /// notifications for it, then reports the first request naming `author_unwatchExtrinsic`
    /// (its params) and how many messages it had sent.
    async fn node(flood: usize) -> (String, oneshot::Receiver<Json>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("ws://{}", listener.local_addr().unwrap());
        let (report, reported) = oneshot::channel();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            let mut report = Some(report);
            while let Some(Ok(message)) = ws.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let request: Json = serde_json::from_str(&text).unwrap();
                let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": "sub-1"});
                match request["method"].as_str().unwrap() {
                    "author_submitAndWatchExtrinsic" => {
                        ws.send(Message::Text(answer.to_string().into()))
                            .await
                            .unwrap();
                        for i in 0..flood {
                            let note = json!({"jsonrpc": "2.0", "method": "author_extrinsicUpdate",
                                "params": {"subscription": "sub-1", "result": {"broadcast": [i.to_string()]}}});
                            if ws
                                .send(Message::Text(note.to_string().into()))
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                    }
                    "author_unwatchExtrinsic" => {
                        let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": true});
                        let _ = ws.send(Message::Text(answer.to_string().into())).await;
                        if let Some(report) = report.take() {
                            let _ = report.send(request["params"].clone());
                        }
                    }
                    _ => {}
                }
            }
        });
        (endpoint, reported)
    }

    async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(30), f)
            .await
            .unwrap_or_else(|_| panic!("no {what} within 30 s"))
    }

    #[tokio::test]
    async fn a_flooding_node_is_unsubscribed_and_what_it_sent_stays_bounded() {
        let flood = 20_000;
        let (endpoint, unwatched) = node(flood).await;
        let rpc = Rpc::new(&endpoint);
        let mut updates = rpc
            .subscribe(
                "author_submitAndWatchExtrinsic",
                json!(["0x00"]),
                "author_unwatchExtrinsic",
            )
            .await
            .unwrap();
        // Nothing read while the node sends 20,000 notifications: it is told to stop...
        assert_eq!(
            within("unwatch", unwatched).await.unwrap(),
            json!(["sub-1"])
        );
        // ...and what waits for the reader is the buffer, not the flood.
        assert_eq!(updates.len(), SUBSCRIPTION_BUFFER);
        let mut read = 0;
        while let Some(update) = within("update", updates.recv()).await {
            assert_eq!(update["broadcast"][0], read.to_string());
            read += 1;
        }
        assert_eq!(read, SUBSCRIPTION_BUFFER);
        assert!(updates.overflowed());
    }

    #[tokio::test]
    async fn a_dropped_subscription_is_unsubscribed() {
        let (endpoint, unwatched) = node(3).await;
        let rpc = Rpc::new(&endpoint);
        let mut updates = rpc
            .subscribe(
                "author_submitAndWatchExtrinsic",
                json!(["0x00"]),
                "author_unwatchExtrinsic",
            )
            .await
            .unwrap();
        assert_eq!(
            within("update", updates.recv()).await.unwrap()["broadcast"][0],
            "0"
        );
        assert!(!updates.overflowed());
        drop(updates);
        assert_eq!(
            within("unwatch", unwatched).await.unwrap(),
            json!(["sub-1"])
        );
    }
}

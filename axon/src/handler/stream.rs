//! Streaming forwards: [`Streaming`], the answer of a forward that sends its output in
//! chunks as it produces them (Python's `StreamingSynapse` with its token streamer).
//!
//! The axon answers `200` with `content-type: text/event-stream` and the synapse's headers
//! at once, then sends each chunk as the producer hands it over. The producer waits while
//! the client is slower than it ([`Chunks::send`] is bounded), it is cancelled when the
//! synapse's timeout passes or the client goes away, and it keeps its worker until it ends.

use super::{BoxFuture, HandlerError};
use axum::body::Bytes;
use std::fmt;
use std::future::Future;
use tokio::sync::mpsc;

/// How many chunks may wait between the producer and the connection by default.
pub(crate) const DEFAULT_BUFFER: usize = 8;

/// The erased producer of a stream.
type Producer = Box<dyn FnOnce(Chunks) -> BoxFuture<'static, Result<(), HandlerError>> + Send>;

/// What a streaming forward returns: the synapse whose headers open the answer, and the
/// producer of its body.
///
/// A forward declares it as its return type (`-> axon::Streaming<S>`, or
/// `Result<axon::Streaming<S>, E>`), with the same attribute as any forward. The chunks
/// are the body as is: the client's `StreamingSynapse.process_streaming_response` decides
/// how to read them (the usual one splits text on newlines).
///
/// The producer returns `()` or `Result<(), E>`. Once the answer has started, an error (or
/// the synapse's timeout passing) cannot change its status any more; the axon then ends
/// the stream so the client can tell: a client that sent `TE: trailers` (the Rust
/// [`Dendrite`](crate::dendrite::Dendrite) does) receives `bt_header_axon_status_code` and
/// `bt_header_axon_status_message` as trailers; any other client sees the body cut short
/// (Python's dendrite reports `400 Payload error`). A stream that ends normally carries
/// the trailers `200` / `Success`.
///
/// ```
/// use axon::{Streaming, Synapse};
///
/// #[axon::synapse]
/// pub struct Tokens { #[hash] pub prompt: String, #[default] pub n: i64 }
///
/// #[axon::forward]
/// async fn generate(synapse: Tokens) -> Streaming<Tokens> {
///     let words: Vec<String> = synapse.prompt.split(' ').map(str::to_owned).collect();
///     Streaming::new(synapse, |chunks| async move {
///         for word in words {
///             chunks.send(format!("{word}\n")).await?;
///         }
///         Ok::<(), axon::HandlerError>(())
///     })
/// }
/// # fn main() {
/// # let handlers = axon::Axon::from_registry().handlers().unwrap();
/// # assert!(handlers.route("Tokens").is_some());
/// # }
/// ```
pub struct Streaming<S> {
    synapse: S,
    produce: Producer,
    buffer: usize,
}

impl<S> Streaming<S> {
    /// The answer `synapse` (its headers are sent first), and `produce`, which receives
    /// the [`Chunks`] to send the body through. `produce` runs as its own task once the
    /// headers are on their way.
    ///
    /// ```
    /// let s = axon::Streaming::new(axon::BaseSynapse::default(), |chunks| async move {
    ///     chunks.send("hello").await
    /// });
    /// assert_eq!(s.synapse().name.as_deref(), Some("Synapse"));
    /// ```
    pub fn new<F, Fut>(synapse: S, produce: F) -> Self
    where
        F: FnOnce(Chunks) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoStreamEnd,
    {
        Streaming {
            synapse,
            produce: Box::new(move |chunks| {
                let fut = produce(chunks);
                Box::pin(async move { fut.await.into_stream_end() })
            }),
            buffer: DEFAULT_BUFFER,
        }
    }

    /// How many chunks may wait for the connection before [`Chunks::send`] waits (8 by
    /// default; at least 1). Together with the socket's buffers it bounds the memory a slow
    /// client can make a stream hold.
    ///
    /// ```
    /// let s = axon::Streaming::new(axon::BaseSynapse::default(), |_| async {}).buffer(1);
    /// # let _ = s;
    /// ```
    pub fn buffer(mut self, chunks: usize) -> Self {
        self.buffer = chunks.max(1);
        self
    }

    /// The synapse whose headers open the answer.
    ///
    /// ```
    /// let s = axon::Streaming::new(axon::BaseSynapse::default(), |_| async {});
    /// assert_eq!(s.synapse().timeout, Some(12.0));
    /// ```
    pub fn synapse(&self) -> &S {
        &self.synapse
    }

    /// The synapse, to change before the answer starts.
    ///
    /// ```
    /// let mut s = axon::Streaming::new(axon::BaseSynapse::default(), |_| async {});
    /// s.synapse_mut().timeout = Some(3.0);
    /// assert_eq!(s.synapse().timeout, Some(3.0));
    /// ```
    pub fn synapse_mut(&mut self) -> &mut S {
        &mut self.synapse
    }

    /// Runs the producer into a channel of the stream's buffer size: the receiving end, and
    /// the producer's future (which must be polled for chunks to arrive).
    pub(crate) fn start(
        self,
    ) -> (
        S,
        mpsc::Receiver<Bytes>,
        BoxFuture<'static, Result<(), HandlerError>>,
    ) {
        let (tx, rx) = mpsc::channel(self.buffer);
        (self.synapse, rx, (self.produce)(Chunks { tx }))
    }
}

impl<S: fmt::Debug> fmt::Debug for Streaming<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streaming")
            .field("synapse", &self.synapse)
            .field("buffer", &self.buffer)
            .finish_non_exhaustive()
    }
}

/// The sending end of a stream, given to its producer.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let s = axon::Streaming::new(axon::BaseSynapse::default(), |chunks| async move {
///     chunks.send("one\n").await?;
///     chunks.send(String::from("two\n")).await?;
///     chunks.send(vec![b'3', b'\n']).await
/// });
/// # let _ = s;
/// # }
/// ```
pub struct Chunks {
    tx: mpsc::Sender<Bytes>,
}

impl Chunks {
    /// Sends one chunk, waiting while the stream's buffer is full (the client reads slower
    /// than the producer writes). Fails once the client is gone: stop producing then (the
    /// `?` operator does). An empty chunk is skipped.
    ///
    /// ```
    /// let s = axon::Streaming::new(axon::BaseSynapse::default(), |chunks| async move {
    ///     for i in 0..3 {
    ///         chunks.send(format!("{i}\n")).await?;
    ///     }
    ///     Ok::<(), axon::HandlerError>(())
    /// });
    /// # let _ = s;
    /// ```
    pub async fn send(&self, chunk: impl IntoChunk) -> Result<(), Disconnected> {
        let chunk = chunk.into_chunk();
        if chunk.is_empty() {
            return if self.tx.is_closed() {
                Err(Disconnected)
            } else {
                Ok(())
            };
        }
        self.tx.send(chunk).await.map_err(|_| Disconnected)
    }

    /// [`send`](Chunks::send) from a plain thread (inside `tokio::task::spawn_blocking`):
    /// blocks while the buffer is full. It panics when called from an async task.
    ///
    /// ```
    /// let s = axon::Streaming::new(axon::BaseSynapse::default(), |chunks| async move {
    ///     tokio::task::spawn_blocking(move || {
    ///         for i in 0..3 {
    ///             chunks.blocking_send(format!("{i}\n"))?;
    ///         }
    ///         Ok::<(), axon::handler::Disconnected>(())
    ///     })
    ///     .await
    ///     .map_err(axon::HandlerError::internal)?
    ///     .map_err(axon::HandlerError::from)
    /// });
    /// # let _ = s;
    /// ```
    pub fn blocking_send(&self, chunk: impl IntoChunk) -> Result<(), Disconnected> {
        let chunk = chunk.into_chunk();
        if chunk.is_empty() {
            return Ok(());
        }
        self.tx.blocking_send(chunk).map_err(|_| Disconnected)
    }

    /// Whether the client is gone (nothing sent from now on would reach it).
    ///
    /// ```
    /// let s = axon::Streaming::new(axon::BaseSynapse::default(), |chunks| async move {
    ///     if !chunks.is_closed() { chunks.send("still there").await?; }
    ///     Ok::<(), axon::HandlerError>(())
    /// });
    /// # let _ = s;
    /// ```
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// What [`Chunks::send`] takes: text or bytes, sent as they are.
///
/// ```
/// use axon::handler::IntoChunk;
///
/// assert_eq!(String::from("a").into_chunk(), "a");
/// assert_eq!("b".into_chunk(), "b");
/// assert_eq!(vec![b'c'].into_chunk(), "c");
/// assert_eq!((&b"d"[..]).into_chunk(), "d");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a chunk of a stream",
    label = "send text or bytes: `String`, `&str`, `Vec<u8>`, `&[u8]` or `Bytes`",
    note = "format other values first, e.g. `chunks.send(value.to_string())` or `chunks.send(serde_json::to_vec(&value)?)`"
)]
pub trait IntoChunk {
    /// The bytes to send.
    fn into_chunk(self) -> Bytes;
}

impl IntoChunk for Bytes {
    fn into_chunk(self) -> Bytes {
        self
    }
}

impl IntoChunk for String {
    fn into_chunk(self) -> Bytes {
        Bytes::from(self)
    }
}

impl IntoChunk for Vec<u8> {
    fn into_chunk(self) -> Bytes {
        Bytes::from(self)
    }
}

impl IntoChunk for &str {
    fn into_chunk(self) -> Bytes {
        Bytes::copy_from_slice(self.as_bytes())
    }
}

impl IntoChunk for &[u8] {
    fn into_chunk(self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

/// The client of a stream is gone: its connection closed or the stream was cut.
///
/// ```
/// let e: axon::HandlerError = axon::handler::Disconnected.into();
/// assert_eq!(e.message(), "the client is gone");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disconnected;

impl fmt::Display for Disconnected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the client is gone")
    }
}

impl std::error::Error for Disconnected {}

/// What a stream's producer may return: `()`, or `Result<(), E>` with
/// `E: Into<HandlerError>`.
///
/// ```
/// use axon::handler::IntoStreamEnd;
///
/// assert!(().into_stream_end().is_ok());
/// assert!(Err::<(), _>(axon::HandlerError::internal("model crashed")).into_stream_end().is_err());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not something a stream's producer can return",
    label = "return `()` or `Result<(), axon::HandlerError>`",
    note = "an error ends the stream; the client gets its status in the trailers, or a cut body"
)]
pub trait IntoStreamEnd {
    /// How the stream ended.
    fn into_stream_end(self) -> Result<(), HandlerError>;
}

impl IntoStreamEnd for () {
    fn into_stream_end(self) -> Result<(), HandlerError> {
        Ok(())
    }
}

impl<E: Into<HandlerError>> IntoStreamEnd for Result<(), E> {
    fn into_stream_end(self) -> Result<(), HandlerError> {
        self.map_err(Into::into)
    }
}

/// A forward's answer: a whole synapse, or a stream.
///
/// ```
/// use axon::handler::Reply;
///
/// let reply = Reply::Synapse(axon::BaseSynapse::default());
/// assert!(reply.synapse().name.is_some());
/// ```
#[derive(Debug)]
pub enum Reply<S> {
    /// Sent as JSON.
    Synapse(S),
    /// Sent chunk by chunk.
    Stream(Streaming<S>),
}

impl<S> Reply<S> {
    /// The answer's synapse (a stream's headers).
    ///
    /// ```
    /// let reply = axon::handler::Reply::Stream(axon::Streaming::new(axon::BaseSynapse::default(), |_| async {}));
    /// assert_eq!(reply.synapse().timeout, Some(12.0));
    /// ```
    pub fn synapse(&self) -> &S {
        match self {
            Reply::Synapse(s) => s,
            Reply::Stream(s) => s.synapse(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    #[test]
    fn a_full_buffer_makes_the_producer_wait() {
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        let streaming = Streaming::new(crate::BaseSynapse::default(), move |chunks| async move {
            for i in 0..100 {
                chunks.send(format!("{i}")).await?;
                counter.fetch_add(1, Ordering::SeqCst);
            }
            Ok::<(), HandlerError>(())
        })
        .buffer(2);
        let (_, mut rx, mut produce) = streaming.start();
        let mut cx = Context::from_waker(Waker::noop());
        // Nobody reads: two chunks fit, the third send waits.
        assert!(produce.as_mut().poll(&mut cx).is_pending());
        assert_eq!(sent.load(Ordering::SeqCst), 2);
        assert!(produce.as_mut().poll(&mut cx).is_pending());
        assert_eq!(sent.load(Ordering::SeqCst), 2);
        // One read lets exactly one more through.
        assert_eq!(rx.try_recv().unwrap(), "0");
        assert!(produce.as_mut().poll(&mut cx).is_pending());
        assert_eq!(sent.load(Ordering::SeqCst), 3);
        // The client gone: the waiting send fails and the producer ends with the error.
        drop(rx);
        match produce.as_mut().poll(&mut cx) {
            Poll::Ready(Err(e)) => assert_eq!(e.message(), "the client is gone"),
            other => panic!("{:?}", other.map(|r| r.map_err(|e| e.message().to_owned()))),
        }
        assert_eq!(sent.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn empty_chunks_are_skipped() {
        let streaming = Streaming::new(crate::BaseSynapse::default(), |chunks| async move {
            chunks.send("").await?;
            chunks.send(Vec::new()).await?;
            chunks.send("x").await
        });
        let (_, mut rx, mut produce) = streaming.start();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(
            produce.as_mut().poll(&mut cx),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(rx.try_recv().unwrap(), "x");
        assert!(rx.try_recv().is_err());
    }
}

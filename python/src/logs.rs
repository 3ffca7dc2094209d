//! The Rust axon's `tracing` lines, for Python's `logging`: each line formatted with its
//! request span's fields (`request{synapse=Echo peer=.. hotkey=..}: refused: ..`) into a
//! bounded buffer, which a Python thread drains in batches (`axon_rs._axon._Logs`). Nothing
//! here takes the GIL: a refusal storm costs a lock and a line per request, and once the
//! buffer is full, a count of the lines dropped.

use pyo3::prelude::*;
use std::collections::VecDeque;
use std::io;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;
use tracing::Level;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Lines kept for Python at most; beyond, they are counted and dropped.
const CAPACITY: usize = 4096;

/// One line: Python's level number, the logger's name (the event's target), the text.
type Line = (u32, String, String);

#[derive(Default)]
struct Buffer {
    lines: VecDeque<Line>,
    dropped: u64,
}

struct Logs {
    buffer: Mutex<Buffer>,
    ready: Condvar,
}

fn logs() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| Logs {
        buffer: Mutex::new(Buffer::default()),
        ready: Condvar::new(),
    })
}

/// Python's level number of a `tracing` level.
fn python_level(level: &Level) -> u32 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

/// Installs the process's `tracing` subscriber that feeds the buffer, once: `RUST_LOG`'s
/// directives, `info` when unset. Another subscriber already installed (a host program's)
/// is kept, and the buffer then stays empty.
pub(crate) fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .without_time()
            .with_level(false)
            .with_target(false)
            .with_writer(Writer)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// Makes one [`LineWriter`] per event, knowing its level and target.
struct Writer;

impl<'a> MakeWriter<'a> for Writer {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter {
            level: 20,
            target: "axon".into(),
            text: Vec::new(),
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> LineWriter {
        LineWriter {
            level: python_level(meta.level()),
            target: meta
                .target()
                .split("::")
                .next()
                .unwrap_or("axon")
                .to_owned(),
            text: Vec::new(),
        }
    }
}

/// One event's text, put in the buffer when dropped.
struct LineWriter {
    level: u32,
    target: String,
    text: Vec<u8>,
}

impl io::Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.text).trim_end().to_owned();
        let logs = logs();
        let mut buffer = logs.buffer.lock().unwrap_or_else(|p| p.into_inner());
        if buffer.lines.len() >= CAPACITY {
            buffer.dropped += 1;
            return;
        }
        let target = std::mem::take(&mut self.target);
        buffer.lines.push_back((self.level, target, text));
        drop(buffer);
        logs.ready.notify_one();
    }
}

/// Waits up to `timeout` seconds (the GIL released) for lines, and returns them all with
/// the count dropped since the last call.
#[pyfunction]
pub(crate) fn take_logs(py: Python<'_>, timeout: f64) -> (Vec<Line>, u64) {
    py.detach(|| {
        let logs = logs();
        let buffer = logs.buffer.lock().unwrap_or_else(|p| p.into_inner());
        let wait = Duration::from_secs_f64(timeout.clamp(0.0, 60.0));
        let (mut buffer, _) = logs
            .ready
            .wait_timeout_while(buffer, wait, |b| b.lines.is_empty() && b.dropped == 0)
            .unwrap_or_else(|p| p.into_inner());
        let lines = buffer.lines.drain(..).collect();
        (lines, std::mem::take(&mut buffer.dropped))
    })
}

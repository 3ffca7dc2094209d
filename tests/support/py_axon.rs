//! The real Python 10.5.0 axon of `tests/python/py_axon.py` (`Echo`, with Eve blacklisted,
//! and the streaming `Tokens`), run as a child process.

use std::io::BufRead;
use std::process::{Command, Stdio};

/// The real Python axon, stopped when dropped (its stdin closes).
pub struct PythonAxon {
    child: std::process::Child,
    pub port: u16,
    pub hotkey: String,
}

impl PythonAxon {
    /// Starts it on a free loopback port and returns once it accepts connections.
    /// Blocking: call it from `spawn_blocking` in an async test.
    pub fn start() -> Self {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/py_axon.py");
        let log = std::env::temp_dir().join(format!("axon-py-axon-{}.log", std::process::id()));
        let mut child = Command::new(super::python())
            .arg(&script)
            .env("PYTHONWARNINGS", "ignore")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| {
            panic!(
                "the Python axon did not start:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        PythonAxon {
            child,
            port: ready["port"].as_u64().unwrap() as u16,
            hotkey: ready["hotkey"].as_str().unwrap().to_owned(),
        }
    }
}

impl Drop for PythonAxon {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        if self.child.wait().is_err() {
            let _ = self.child.kill();
        }
    }
}

/// Python: `class Tokens(bt.StreamingSynapse)` in `tests/python/py_axon.py` (and in
/// `tests/python/gather_calls.py`).
#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Tokens {
    #[hash]
    pub prompt: String,
    #[hash]
    pub n: i64,
    #[default]
    pub completion: String,
}

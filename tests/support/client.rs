//! A Python client script of `tests/python/` started ahead of time: it reads its JSON
//! config from the first line of stdin, imports and prepares, prints `READY`, and sends
//! only when told `GO`, so a test can start several at once (or start an attack between
//! the two). It ends with a `RESULT ` line.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

/// A running client script.
pub struct Client {
    child: Child,
    out: Option<BufReader<ChildStdout>>,
}

impl Client {
    /// Starts `script` with `python`, `config` on its first line of stdin.
    pub fn spawn(python: &Path, script: &str, config: &Value) -> Client {
        let dir = super::workspace_root().join("tests/python");
        let mut child = Command::new(python)
            .arg(dir.join(script))
            .current_dir(&dir)
            .env("PYTHONWARNINGS", "ignore")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {script}: {e}"));
        writeln!(child.stdin.as_mut().unwrap(), "{config}").unwrap();
        Client { child, out: None }
    }

    /// Waits for its `READY` line.
    pub fn ready(&mut self) {
        let mut out = BufReader::new(self.child.stdout.take().unwrap());
        let mut line = String::new();
        while line.trim() != "READY" {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "client exited before READY"
            );
        }
        self.out = Some(out);
    }

    /// Tells it to send.
    pub fn go(&mut self) {
        writeln!(self.child.stdin.as_mut().unwrap(), "GO").unwrap();
    }

    /// Waits for it to end: its `RESULT`.
    pub fn result(mut self) -> Value {
        let mut rest = String::new();
        let out = self.out.as_mut().expect("ready() before result()");
        std::io::Read::read_to_string(out, &mut rest).unwrap();
        assert!(
            self.child.wait().unwrap().success(),
            "client failed:\n{rest}"
        );
        super::result_line(&rest)
    }

    /// Starts, readies, tells and waits for one client: its `RESULT`.
    pub fn run(python: &Path, script: &str, config: &Value) -> Value {
        let mut client = Client::spawn(python, script, config);
        client.ready();
        client.go();
        client.result()
    }
}

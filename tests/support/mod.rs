//! Shared test support: the pinned Python `bittensor` the interop tests compare against.
//!
//! The real package is the authority. `python()` returns an interpreter that imports
//! `bittensor==10.5.0`, creating the virtualenv `.venv-bt/` at the workspace root when it is
//! missing (and `python_9()` one importing 9.12.2, `.venv-bt9/`). A missing or broken
//! Python client fails the test; it is never skipped. `AXON_PYTHON=/path/to/python` (and
//! `AXON_PYTHON9`) uses another interpreter, which must import the pinned release.

#![allow(dead_code)]

pub mod chain;
pub mod client;
pub mod counting;
pub mod http;
pub mod log;
pub mod py_axon;
pub mod services;
pub mod tally;

/// The suites' `Echo` synapse: the Rust twin of `class Echo(bt.Synapse)` in
/// `tests/python/` (and of the examples' own, which stand alone).
#[axon::synapse]
#[derive(Debug, Clone, PartialEq)]
pub struct Echo {
    #[hash]
    pub text: String,
    #[hash]
    pub n: i64,
    #[default]
    pub out: Option<String>,
}

use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned version of the Python reference.
pub const BITTENSOR_VERSION: &str = "10.5.0";

/// The newest 9.x, whose Dendrite validators still run.
pub const BITTENSOR_9_VERSION: &str = "9.12.2";

pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A bittensor release in a virtualenv of its own at the workspace root.
struct Pinned {
    venv: &'static str,
    version: &'static str,
    /// What pip installs: bittensor 9.12.2 imports only with `async-substrate-interface<2`.
    packages: &'static [&'static str],
    /// An interpreter to use instead, when this variable names one.
    env: &'static str,
}

const BITTENSOR_10: Pinned = Pinned {
    venv: ".venv-bt",
    version: BITTENSOR_VERSION,
    packages: &["bittensor==10.5.0"],
    env: "AXON_PYTHON",
};

const BITTENSOR_9: Pinned = Pinned {
    venv: ".venv-bt9",
    version: BITTENSOR_9_VERSION,
    packages: &["bittensor==9.12.2", "async-substrate-interface<2"],
    env: "AXON_PYTHON9",
};

/// bittensor 11, whose `http_auth` (btauth/1) replaced the Axon (`.venv-bt11/`).
const BITTENSOR_11: Pinned = Pinned {
    venv: ".venv-bt11",
    version: "11.3.0",
    packages: &["bittensor==11.3.0"],
    env: "AXON_PYTHON11",
};

/// An interpreter importing bittensor 11.3.0 (`.venv-bt11/`, or `AXON_PYTHON11`).
pub fn python_11() -> PathBuf {
    BITTENSOR_11.python()
}

/// Runs a script from `tests/python/` with `python`, `input` on its stdin; returns the JSON
/// of its `RESULT ` line.
pub fn run_script_stdin(
    python: &Path,
    script: &str,
    input: &serde_json::Value,
) -> serde_json::Value {
    use std::io::Write;
    let path = workspace_root().join("tests").join("python").join(script);
    let mut child = Command::new(python)
        .arg(&path)
        .env("PYTHONWARNINGS", "ignore")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", path.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    result_line(&String::from_utf8(out.stdout).expect("script output is UTF-8"))
}

fn imports(python: &Path, version: &str) -> bool {
    Command::new(python)
        .args([
            "-c",
            &format!("import bittensor, sys; sys.exit(bittensor.__version__ != '{version}')"),
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs `cmd`, failing with its output when it fails; its stdout and stderr.
pub fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: could not start: {e}"));
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{text}",
        out.status
    );
    text
}

impl Pinned {
    /// An interpreter importing this release, the virtualenv created when missing.
    fn python(&self) -> PathBuf {
        let Pinned {
            venv,
            version,
            packages,
            env,
        } = self;
        if let Some(p) = std::env::var_os(env) {
            let p = PathBuf::from(p);
            assert!(
                imports(&p, version),
                "{env}={} does not import bittensor=={version}",
                p.display()
            );
            return p;
        }
        let venv = workspace_root().join(venv);
        let python = venv.join("bin").join("python");
        // Test binaries run in parallel: one creates the virtualenv, the others wait.
        let lock_name = format!("{}.lock", self.venv);
        let lock = std::fs::File::create(workspace_root().join("target").join(&lock_name))
            .or_else(|_| std::fs::File::create(std::env::temp_dir().join(&lock_name)))
            .expect("create the virtualenv lock file");
        lock.lock().expect("lock the virtualenv");
        if !imports(&python, version) {
            eprintln!(
                "creating {} with bittensor=={version} (first run only)",
                venv.display()
            );
            let system = std::env::var("PYTHON3").unwrap_or_else(|_| "python3".into());
            run(
                Command::new(&system)
                    .args(["-m", "venv", "--clear"])
                    .arg(&venv),
                "python3 -m venv",
            );
            run(
                Command::new(&python)
                    .args([
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                    ])
                    .args(*packages),
                "pip install bittensor",
            );
            assert!(
                imports(&python, version),
                "{} does not import bittensor {version} after install",
                python.display()
            );
        }
        python
    }
}

/// An interpreter importing bittensor 10.5.0 (see the module docs).
pub fn python() -> PathBuf {
    BITTENSOR_10.python()
}

/// An interpreter importing bittensor 9.12.2, the newest 9.x (`.venv-bt9/`, or
/// `AXON_PYTHON9`).
pub fn python_9() -> PathBuf {
    BITTENSOR_9.python()
}

/// Runs a script from `tests/python/` with the pinned interpreter and returns its stdout.
pub fn run_python_script(script: &str) -> String {
    run_python_script_with(script, &[])
}

/// The JSON a script printed on its line marked `RESULT `. bittensor logs to stdout too
/// (a dendrite's errors, sometimes after the script's last print, from another thread: it
/// can land between the JSON and its newline), so the result is marked and only its one
/// JSON value is read.
pub fn result_line(stdout: &str) -> serde_json::Value {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line in:\n{stdout}"));
    let mut values = serde_json::Deserializer::from_str(line).into_iter::<serde_json::Value>();
    match values.next() {
        Some(Ok(value)) => value,
        Some(Err(e)) => panic!("RESULT line: {e}\n{line}"),
        None => panic!("RESULT line is empty"),
    }
}

/// [`run_python_script`] with arguments.
pub fn run_python_script_with(script: &str, args: &[&str]) -> String {
    run_script(&python(), script, args)
}

/// Runs a script from `tests/python/` with `python` and returns its stdout.
pub fn run_script(python: &Path, script: &str, args: &[&str]) -> String {
    let path = workspace_root().join("tests").join("python").join(script);
    let out = Command::new(python)
        .arg(&path)
        .args(args)
        .env("PYTHONWARNINGS", "ignore")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", path.display()));
    assert!(
        out.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("script output is UTF-8")
}

/// The example `name` (`echo_miner`, `subnet_miner`), built once per test binary.
pub fn example(name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == name) {
        // Without the variables cargo set for this test: a build script that reads one
        // (ring's reads CARGO_MANIFEST_DIR) would otherwise rebuild, and everything above it,
        // here and again at the next `cargo build` outside the tests.
        let mut cargo = Command::new(env!("CARGO"));
        for (var, _) in std::env::vars_os() {
            let var = var.to_string_lossy().into_owned();
            let set_for_the_test = var.starts_with("CARGO_PKG_")
                || var.starts_with("CARGO_MANIFEST_")
                || matches!(
                    var.as_str(),
                    "CARGO_CRATE_NAME"
                        | "CARGO_PRIMARY_PACKAGE"
                        | "CARGO_TARGET_TMPDIR"
                        | "CARGO_RUSTC_CURRENT_DIR"
                );
            if set_for_the_test {
                cargo.env_remove(var);
            }
        }
        let status = cargo
            .args(["build", "--quiet", "--example", name])
            .current_dir(workspace_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build --example {name} failed");
        built.push(name.to_owned());
    }
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().unwrap().parent().unwrap();
    profile.join("examples").join(name)
}

/// The echo miner's record on loopback: `//Alice` (its default development key) at `port`.
pub fn loopback_alice(port: u16) -> axon::AxonInfo {
    axon::AxonInfo {
        version: 10_005_000,
        ip: "127.0.0.1".into(),
        port,
        ip_type: 4,
        hotkey: axon::keys::Keypair::from_uri("//Alice")
            .unwrap()
            .ss58()
            .to_owned(),
        coldkey: None,
        protocol: 4,
        placeholder1: 0,
        placeholder2: 0,
    }
}

/// Installs the Python package `axon_rs` from this checkout (`pip install ./python`, the
/// `dev` profile, sharing this workspace's `target/`) into the virtualenv of `python`, once
/// per test binary.
pub fn install_axon_rs(python: &Path) {
    static INSTALLED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    if installed.iter().any(|p| p == python) {
        return;
    }
    run(
        Command::new(python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--force-reinstall", "--no-deps"])
            .arg(workspace_root().join("python"))
            .env("MATURIN_PEP517_ARGS", "--profile dev"),
        "pip install ./python",
    );
    installed.push(python.to_owned());
}

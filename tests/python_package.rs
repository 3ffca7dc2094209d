//! The Python package `axon_rs` (`python/`), built and installed as a miner would install it
//! (`pip install ./python`: pip's build isolation fetches maturin from PyPI and builds the
//! wheel from this checkout), then its pytest suite (`python/tests`) run against it, in the
//! virtualenv `.venv-axon-rs/` at the workspace root (created when missing).
//!
//! The wheel is built with the `dev` profile (`MATURIN_PEP517_ARGS`), sharing this
//! workspace's `target/`, so a test run does not compile the dependencies a second time in
//! release.

mod support;

use std::path::Path;
use std::process::Command;
use support::workspace_root;

/// Runs `command`, failing with its output when it fails.
fn run(command: &mut Command, what: &str) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
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

#[test]
fn pip_installs_the_package_from_the_checkout_and_its_tests_pass() {
    let root = workspace_root();
    let venv = root.join(".venv-axon-rs");
    let python = venv.join("bin").join("python");
    let has_pytest = |python: &Path| {
        Command::new(python)
            .args(["-c", "import pytest"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !has_pytest(&python) {
        let system = std::env::var("PYTHON3").unwrap_or_else(|_| "python3".into());
        run(
            Command::new(&system)
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
            "python3 -m venv",
        );
        run(
            Command::new(&python).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "pytest",
            ]),
            "pip install pytest",
        );
    }
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--force-reinstall",
                "--no-deps",
            ])
            .arg(root.join("python"))
            .env("MATURIN_PEP517_ARGS", "--profile dev"),
        "pip install ./python",
    );
    let out = run(
        Command::new(&python)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .arg(root.join("python").join("tests"))
            .current_dir(root),
        "pytest python/tests",
    );
    assert!(out.contains(" passed"), "{out}");
    assert!(!out.contains("skipped"), "{out}");
}

//! The Python package `axon_rs` (`python/`), built and installed as a miner would install it
//! (`pip install ./python`: pip's build isolation fetches maturin from PyPI and builds the
//! wheel from this checkout), then its pytest suite (`python/tests`) run against it, in the
//! virtualenv `.venv-axon-rs/` at the workspace root (created when missing), then the miner
//! suite under bittensor 10.5.0 and 9.12.2, and the bittensor 11.3.0 suite (`python/tests/bt11`).
//!
//! The wheel is built with the `dev` profile (`MATURIN_PEP517_ARGS`), sharing this
//! workspace's `target/`, so a test run does not compile the dependencies a second time in
//! release.

mod support;

use std::path::Path;
use std::process::Command;
use support::{run, workspace_root};

/// `python -m pip` with `args` (quiet, and the wheel built with the `dev` profile).
fn pip(python: &Path, args: &[&str], target: Option<&Path>, what: &str) -> String {
    let mut command = Command::new(python);
    command
        .args(["-m", "pip"])
        .args(args)
        .args(["--quiet", "--disable-pip-version-check"])
        .args(target)
        .env("MATURIN_PEP517_ARGS", "--profile dev");
    run(&mut command, what)
}

/// Runs `python/tests/{suite}` with pytest: every test passes, none is skipped.
fn pytest(python: &Path, root: &Path, suite: &str) -> String {
    pytest_with(python, root, suite, &[])
}

/// [`pytest`] with variables set.
fn pytest_with(python: &Path, root: &Path, suite: &str, vars: &[(&str, &Path)]) -> String {
    let out = run(
        Command::new(python)
            .envs(vars.iter().map(|(k, v)| (*k, *v)))
            .args([
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-W",
                "ignore::DeprecationWarning",
            ])
            .arg(root.join("python").join("tests").join(suite))
            .current_dir(root),
        &format!("pytest python/tests/{suite} ({})", python.display()),
    );
    assert!(out.contains(" passed"), "{out}");
    assert!(!out.contains("skipped"), "{out}");
    out
}

/// Installs pytest and pydantic (the package's one dependency, installed here without
/// its dependencies) in the virtualenv of `python` when it lacks them.
fn with_pytest(python: &Path) {
    let has = Command::new(python)
        .args(["-c", "import pytest, pydantic"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        pip(
            python,
            &["install", "pytest", "pydantic>=2,<3"],
            None,
            "pip install pytest pydantic",
        );
    }
}

#[test]
fn pip_installs_the_package_from_the_checkout_and_its_tests_pass() {
    let root = workspace_root();
    let venv = root.join(".venv-axon-rs");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        let system = std::env::var("PYTHON3").unwrap_or_else(|_| "python3".into());
        run(
            Command::new(&system)
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
            "python3 -m venv",
        );
    }
    with_pytest(&python);
    let package = root.join("python");
    let reinstall = ["install", "--force-reinstall", "--no-deps"];
    pip(&python, &reinstall, Some(&package), "pip install ./python");
    pytest(&python, root, "package");

    // Built once as a wheel (`pip wheel ./python -w dist/`) for miner boxes without a Rust
    // toolchain: one abi3 wheel for CPython 3.9 and newer, which installs and passes too.
    let dist = std::env::temp_dir().join(format!("axon-rs-dist-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dist);
    let out = dist.to_str().unwrap();
    pip(
        &python,
        &["wheel", "--no-deps", "-w", out],
        Some(&package),
        "pip wheel ./python",
    );
    let wheels: Vec<String> = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    let prefix = format!("axon_rs-{version}-cp39-abi3-");
    assert!(
        wheels[0].starts_with(&prefix) && wheels[0].ends_with("_x86_64.whl"),
        "{wheels:?}"
    );
    let wheel = dist.join(&wheels[0]);
    pip(&python, &reinstall, Some(&wheel), "pip install the wheel");
    pytest(&python, root, "package");

    // The miner suite: the same miner on bittensor's Axon and on axon_rs.Axon, under the
    // real Dendrite of bittensor 10.5.0 and of 9.12.2, each in its own virtualenv.
    for bittensor in [support::python(), support::python_9()] {
        with_pytest(&bittensor);
        pip(
            &bittensor,
            &reinstall,
            Some(&wheel),
            "pip install the wheel",
        );
        pytest(&bittensor, root, "miner");
    }

    // bittensor 11.3.0, which has no Axon: classes on `axon_rs.Synapse` served to the real
    // 10.5.0 and 9.12.2 Dendrites (run from their own virtualenvs) and endpoints written in
    // Python served to bittensor 11's `http_auth.sign` and to Epistula, on one port.
    let bittensor_11 = support::python_11();
    with_pytest(&bittensor_11);
    pip(
        &bittensor_11,
        &reinstall,
        Some(&wheel),
        "pip install the wheel",
    );
    let (python_10, python_9) = (support::python(), support::python_9());
    pytest_with(
        &bittensor_11,
        root,
        "bt11",
        &[
            ("AXON_PYTHON10", python_10.as_path()),
            ("AXON_PYTHON9", python_9.as_path()),
        ],
    );
    std::fs::remove_dir_all(&dist).unwrap();
}

//! `axon_rs._native.Server`: the Rust axon, its synapse types attached from Python.

use crate::route::Route;
use axon::chain::Subtensor;
use axon::config::Config;
use axon::keys::{Crypto, Keypair};
use axon::{Axon, DynamicSynapse, Served, SynapseSchema};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;
use std::sync::Mutex;

/// The Rust axon behind one `axon_rs.Axon`, with the runtime it serves on.
#[pyclass(module = "axon_rs._native")]
pub(crate) struct Server {
    runtime: tokio::runtime::Runtime,
    /// The builder until `start`; then the started axon.
    axon: Mutex<Option<Axon>>,
    hotkey: String,
}

/// A hotkey signed for by a Python keypair object (bittensor_wallet's or bittensor-core's
/// `Keypair`, which never expose their secret): its `sign` is called with the GIL, off the
/// I/O threads (`block_in_place`).
fn signing_object(keypair: &Bound<'_, PyAny>) -> PyResult<Result<Keypair, axon::keys::KeyError>> {
    let public: Vec<u8> = keypair.getattr("public_key")?.extract()?;
    let public: [u8; 32] = public
        .try_into()
        .map_err(|_| PyValueError::new_err("the hotkey's public_key is not 32 bytes"))?;
    let crypto = match keypair
        .getattr("crypto_type")
        .and_then(|c| c.extract::<i64>())
    {
        Ok(code) => Crypto::from_code(code).ok_or_else(|| {
            PyValueError::new_err(format!(
                "the hotkey's crypto_type {code} is neither sr25519 (1) nor ed25519 (0)"
            ))
        })?,
        Err(_) => Crypto::Sr25519,
    };
    let keypair = keypair.clone().unbind();
    let sign = move |message: &[u8]| -> Result<[u8; 64], String> {
        let signed = || {
            Python::attach(|py| {
                let signature = keypair.call_method1(py, "sign", (PyBytes::new(py, message),));
                let bytes: Vec<u8> = signature
                    .and_then(|s| s.extract(py))
                    .map_err(|e| e.to_string())?;
                bytes
                    .try_into()
                    .map_err(|b: Vec<u8>| format!("sign returned {} bytes, not 64", b.len()))
            })
        };
        match tokio::runtime::Handle::try_current() {
            Ok(_) => tokio::task::block_in_place(signed),
            Err(_) => signed(),
        }
    };
    Ok(Keypair::external(public, crypto, sign))
}

/// The settings the Rust axon reads, `(flag, boolean, repeatable)` (`--axon.port`,
/// `--axon.replay_store`, ..), for the Python side to find in a bittensor config object and
/// to add to a miner's parser.
#[pyfunction]
pub(crate) fn flags() -> Vec<(&'static str, bool, bool)> {
    Config::flags()
        .map(|f| (f.flag, f.boolean, f.repeatable))
        .collect()
}

fn runtime_error(e: impl std::fmt::Display) -> PyErr {
    PyRuntimeError::new_err(e.to_string())
}

impl Server {
    /// Changes the axon (not yet started) with `f`.
    fn with(&self, f: impl FnOnce(Axon) -> Axon) -> PyResult<()> {
        let mut axon = self.axon.lock().unwrap_or_else(|p| p.into_inner());
        let built = axon
            .take()
            .ok_or_else(|| runtime_error("the axon is gone"))?;
        if built.started() {
            *axon = Some(built);
            return Err(runtime_error("attach before start"));
        }
        *axon = Some(f(built));
        Ok(())
    }
}

#[pymethods]
impl Server {
    /// An axon listening on `ip:port` with `hotkey`: a bittensor keyfile's path (read by
    /// this project's keyfile code), or a keypair object whose secret stays in Python
    /// (`public_key`, `crypto_type`, and `sign(message) -> bytes`, which signs the
    /// answers).
    #[new]
    ///
    /// `config` is the `--axon.*` settings of a bittensor config object as flags (those
    /// [`flags`] lists), read over the `BT_*` variables; the other arguments win over
    /// them.
    #[pyo3(signature = (hotkey, coldkey, ip, port, external_ip, external_port, max_workers, config))]
    #[allow(clippy::too_many_arguments)] // bittensor's `Axon(..)` arguments, one each
    fn new(
        hotkey: Bound<'_, PyAny>,
        coldkey: Option<String>,
        ip: String,
        port: u16,
        external_ip: Option<String>,
        external_port: Option<u16>,
        max_workers: usize,
        config: Vec<String>,
    ) -> PyResult<Self> {
        crate::logs::install();
        let (config, _) = Config::parse(config, |var| std::env::var(var).ok())
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let hotkey = match hotkey.extract::<PathBuf>() {
            Ok(file) => Keypair::from_keyfile(&file),
            Err(_) => signing_object(&hotkey)?,
        }
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let ss58 = hotkey.ss58().to_owned();
        let mut axon = Axon::new()
            .config(config.axon)
            .hotkey(hotkey)
            .ip(ip)
            .port(port)
            .max_workers(max_workers);
        if let Some(coldkey) = coldkey {
            axon = axon.coldkey(coldkey);
        }
        if let Some(ip) = external_ip {
            axon = axon.external_ip(ip);
        }
        if let Some(port) = external_port {
            axon = axon.external_port(port);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("axon_rs")
            .build()
            .map_err(runtime_error)?;
        Ok(Server {
            runtime,
            axon: Mutex::new(Some(axon)),
            hotkey: ss58,
        })
    }

    /// Serves the synapse type `name`: its own `fields` in order (`(name, required,
    /// default)`, the default a JSON-able value), `hash_fields`, whether the
    /// class's own `body_hash` computes its hash (`python_hash`), and the functions of
    /// `route` (its `fns`: `forward`, and `blacklist`, `priority`, `verify` when given).
    #[pyo3(signature = (name, fields, hash_fields, python_hash, route))]
    fn attach(
        &self,
        py: Python<'_>,
        name: &str,
        fields: Vec<(String, bool, Bound<'_, PyAny>)>,
        hash_fields: Vec<String>,
        python_hash: bool,
        route: Py<PyAny>,
    ) -> PyResult<()> {
        let functions: Vec<String> = route
            .getattr(py, "fns")?
            .call_method0(py, "keys")?
            .bind(py)
            .try_iter()?
            .map(|k| k?.extract())
            .collect::<PyResult<_>>()?;
        let json = py.import("json")?;
        let mut schema = SynapseSchema::builder(name);
        for (field, required, default) in fields {
            schema = match required {
                true => schema.required(&field),
                false => {
                    let value = default;
                    let text: String = json.call_method1("dumps", (value,))?.extract()?;
                    let value = serde_json::from_str(&text).map_err(runtime_error)?;
                    schema.default(&field, value)
                }
            };
        }
        let route = Route::new(route);
        let mut schema = schema.hash(hash_fields);
        if python_hash {
            let route = route.clone();
            schema = schema.hash_with(move |s| route.hash(s));
        }
        let schema = schema
            .build()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let has = |f: &str| functions.iter().any(|g| g == f);
        let (blacklist, priority, verify) = (has("blacklist"), has("priority"), has("verify"));
        self.with(|mut axon| {
            // On a handler thread, bounded by `max_workers`: a plain function runs there, an
            // async one on the package's loop while the thread waits for it.
            let forward = route.clone();
            axon = axon.attach_dynamic(&schema, move |s: DynamicSynapse| forward.forward(s));
            if blacklist {
                let route = route.clone();
                axon = axon.blacklist_dynamic(&schema, move |s: &DynamicSynapse| {
                    let (route, s) = (route.clone(), s.clone());
                    async move { route.blacklist(&s).await }
                });
            }
            if priority {
                let route = route.clone();
                axon = axon.priority_dynamic(&schema, move |s: &DynamicSynapse| {
                    let (route, s) = (route.clone(), s.clone());
                    async move { route.priority(&s).await }
                });
            }
            if verify {
                let route = route.clone();
                axon = axon.verify_dynamic(&schema, move |s: &DynamicSynapse| {
                    let (route, s) = (route.clone(), s.clone());
                    async move { route.verify(&s).await }
                });
            }
            axon
        })
    }

    /// Publishes the axon on chain at `endpoint` (`ws://..` or `wss://..`) for `netuid`
    /// (`serve_axon`, signed by the hotkey), unless the chain already holds the same
    /// record: `"published"` or `"unchanged"`. The GIL is released meanwhile.
    fn serve(&self, py: Python<'_>, endpoint: String, netuid: u16) -> PyResult<&'static str> {
        py.detach(|| {
            let axon = self.axon.lock().unwrap_or_else(|p| p.into_inner());
            let axon = axon
                .as_ref()
                .ok_or_else(|| runtime_error("the axon is gone"))?;
            self.runtime.block_on(async {
                let chain = Subtensor::connect(&endpoint).await.map_err(runtime_error)?;
                match axon.serve(netuid, &chain).await.map_err(runtime_error)? {
                    Served::Published(_) => Ok("published"),
                    _ => Ok("unchanged"),
                }
            })
        })
    }

    /// Starts serving and returns once listening; the GIL is released meanwhile.
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| {
            let mut axon = self.axon.lock().unwrap_or_else(|p| p.into_inner());
            let axon = axon
                .as_mut()
                .ok_or_else(|| runtime_error("the axon is gone"))?;
            if axon.started() {
                return Ok(());
            }
            self.runtime
                .block_on(axon.start())
                .map(|_| ())
                .map_err(runtime_error)
        })
    }

    /// Stops serving, answering what was received first; the GIL is released meanwhile.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| {
            let mut axon = self.axon.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(axon) = axon.as_mut() {
                self.runtime.block_on(axon.stop());
            }
            Ok(())
        })
    }

    /// `(ip, port, hotkey, coldkey)` of the axon's chain record, once started.
    fn info(&self) -> PyResult<(String, u16, String, Option<String>)> {
        let axon = self.axon.lock().unwrap_or_else(|p| p.into_inner());
        let info = axon
            .as_ref()
            .and_then(|a| a.info())
            .ok_or_else(|| runtime_error("the axon is not started"))?;
        Ok((info.ip, info.port, info.hotkey, info.coldkey))
    }

    /// `(running, waiting)`: requests past admission, and requests waiting for a worker;
    /// `None` before start.
    fn load(&self) -> Option<(usize, usize)> {
        let axon = self.axon.lock().unwrap_or_else(|p| p.into_inner());
        let load = axon.as_ref()?.load()?;
        Some((load.running, load.waiting))
    }

    /// The port listened on, once started.
    fn local_port(&self) -> Option<u16> {
        let axon = self.axon.lock().unwrap_or_else(|p| p.into_inner());
        axon.as_ref()?.local_addr().map(|a| a.port())
    }

    /// The hotkey's SS58 address.
    fn hotkey(&self) -> &str {
        &self.hotkey
    }
}

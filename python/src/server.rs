//! `axon_rs._native.Server`: the Rust axon, its synapse types attached from Python.

use crate::endpoint::EndpointRoute;
use crate::route::Route;
use axon::chain::Subtensor;
use axon::config::Config;
use axon::endpoint::Declaration;
use axon::keys::{Crypto, Keypair};
use axon::metagraph::{Metagraph, SyncOptions};
use axon::{Axon, Blacklist, DynamicSynapse, Served, SynapseSchema};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

/// The Rust axon behind one `axon_rs.Axon`, with the runtime it serves on.
#[pyclass(module = "axon_rs._native")]
pub(crate) struct Server {
    runtime: Runtime,
    /// The builder until `start`; then the started axon.
    axon: Mutex<Option<Axon>>,
    hotkey: String,
    /// The synapse types attached, registered on the axon at `start` (after the policies,
    /// whichever came first).
    attached: Mutex<Vec<Attached>>,
    /// The built-in metagraph policies, when switched on.
    policy: Mutex<Option<Policy>>,
    /// The signed-HTTP endpoints, registered at `start` as the synapse types are.
    endpoints: Mutex<Vec<AttachedEndpoint>>,
}

/// The runtime an axon serves on, shut down without waiting when the `Server` is
/// collected. A `Server` is collected with the GIL held (at the latest, as the interpreter
/// ends); tokio's own drop waits for every blocking thread, and one of them may be waiting
/// for the GIL to call Python: both would wait for ever.
struct Runtime(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for Runtime {
    type Target = tokio::runtime::Runtime;

    fn deref(&self) -> &Self::Target {
        self.0
            .as_ref()
            .expect("the runtime is taken only when dropped")
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// One endpoint from Python, and which of its checks it has.
struct AttachedEndpoint {
    declaration: Declaration,
    route: EndpointRoute,
    blacklist: bool,
    priority: bool,
}

/// One synapse type from Python, and which of its functions it has.
struct Attached {
    schema: SynapseSchema,
    route: Route,
    blacklist: bool,
    priority: bool,
    verify: bool,
}

/// The metagraph's policies, run in Rust for every synapse type: a blacklist (before the
/// miner's own Python blacklist, when it has one) and the stake priority (unless the miner
/// gives its own).
#[derive(Clone)]
pub(crate) struct Policy {
    pub(crate) metagraph: Metagraph,
    blacklist: Option<PolicyBlacklist>,
    pub(crate) stake_priority: bool,
}

#[derive(Clone, Copy)]
enum PolicyBlacklist {
    Registered,
    Validator,
    MinStake(u64),
}

impl Policy {
    fn blacklist(&self, synapse: &DynamicSynapse) -> Blacklist {
        self.blacklist_of(synapse.base.dendrite.hotkey.as_deref())
    }

    pub(crate) fn has_blacklist(&self) -> bool {
        self.blacklist.is_some()
    }

    /// The policy's blacklist of the caller `hotkey`.
    pub(crate) fn blacklist_of(&self, hotkey: Option<&str>) -> Blacklist {
        match self.blacklist {
            None => Blacklist::Allow,
            Some(PolicyBlacklist::Registered) => self.metagraph.registered(hotkey),
            Some(PolicyBlacklist::Validator) => self.metagraph.validator(hotkey),
            Some(PolicyBlacklist::MinStake(min)) => self.metagraph.min_stake(hotkey, min),
        }
    }
}

/// Registers `attached` on `axon`, each with the policy's checks composed in.
fn register(mut axon: Axon, attached: Attached, policy: Option<&Policy>) -> Axon {
    let Attached {
        schema,
        route,
        blacklist,
        priority,
        verify,
    } = attached;
    // On a handler thread, bounded by `max_workers`: a plain function runs there, an async
    // one on the package's loop while the thread waits for it.
    let forward = route.clone();
    axon = axon.attach_dynamic(&schema, move |s: DynamicSynapse| forward.forward(s));
    let policy_blacklist = policy.filter(|p| p.blacklist.is_some()).cloned();
    match (policy_blacklist, blacklist) {
        (None, false) => {}
        // No Python in the hot path.
        (Some(policy), false) => {
            axon = axon.blacklist_dynamic(&schema, move |s: &DynamicSynapse| policy.blacklist(s));
        }
        (policy, true) => {
            let route = route.clone();
            axon = axon.blacklist_dynamic(&schema, move |s: &DynamicSynapse| {
                let verdict = policy.as_ref().map(|p| p.blacklist(s));
                let (route, s) = (route.clone(), s.clone());
                async move {
                    match verdict {
                        Some(deny @ Blacklist::Deny(_)) => deny,
                        _ => route.blacklist(&s).await,
                    }
                }
            });
        }
    }
    if priority {
        let route = route.clone();
        axon = axon.priority_dynamic(&schema, move |s: &DynamicSynapse| {
            let (route, s) = (route.clone(), s.clone());
            async move { route.priority(&s).await }
        });
    } else if let Some(policy) = policy.filter(|p| p.stake_priority).cloned() {
        axon = axon.priority_dynamic(&schema, move |s: &DynamicSynapse| {
            policy
                .metagraph
                .stake_priority(s.base.dendrite.hotkey.as_deref())
        });
    }
    if verify {
        axon = axon.verify_dynamic(&schema, move |s: &DynamicSynapse| {
            let (route, s) = (route.clone(), s.clone());
            async move { route.verify(&s).await }
        });
    }
    axon
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

/// One neuron as the Python `Metagraph` reads it: `(uid, hotkey, coldkey, stake in the
/// alpha's smallest unit, validator_permit, last_update, TLS key as published (the algorithm
/// byte, then the key) or None)`.
type NeuronRow = (u16, String, String, u64, bool, u64, Option<Vec<u8>>);

/// The metagraph of `netuid` read once from the chain at `endpoint` (the Rust
/// [`Metagraph::read`], storage maps only, so any runtime serves it): `(block, neurons by
/// uid)`. The GIL is released meanwhile.
#[pyfunction]
pub(crate) fn read_metagraph(
    py: Python<'_>,
    endpoint: String,
    netuid: u16,
) -> PyResult<(u64, Vec<NeuronRow>)> {
    py.detach(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(runtime_error)?;
        runtime.block_on(async {
            let chain = Subtensor::connect(&endpoint).await.map_err(runtime_error)?;
            let snapshot = Metagraph::read(&chain, netuid)
                .await
                .map_err(runtime_error)?;
            let neurons = snapshot
                .neurons
                .iter()
                .map(|n| {
                    (
                        n.uid,
                        n.hotkey.clone(),
                        n.coldkey.clone(),
                        n.stake,
                        n.validator_permit,
                        n.last_update,
                        n.certificate.as_ref().map(|c| {
                            let mut published = vec![c.algorithm];
                            published.extend_from_slice(&c.public_key);
                            published
                        }),
                    )
                })
                .collect();
            Ok((snapshot.block, neurons))
        })
    })
}

/// The public key of a DER certificate as the chain publishes it (`serve_axon_tls`: the
/// algorithm byte, 1 for ed25519 or 2 for compressed P-256, then the key), or None when the
/// certificate does not parse or its key cannot be published. A Python caller compares it
/// with the key its metagraph read, to pin the miner's TLS key.
#[pyfunction]
pub(crate) fn tls_key(der: &[u8]) -> Option<Vec<u8>> {
    axon::tls::TlsKey::of_certificate(der)?.certificate()
}

fn runtime_error(e: impl std::fmt::Display) -> PyErr {
    PyRuntimeError::new_err(e.to_string())
}

impl Server {
    fn started(&self) -> bool {
        let axon = self.axon.lock().unwrap_or_else(|p| p.into_inner());
        axon.as_ref().is_some_and(|a| a.started())
    }

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
            .auth(axon::auth::AuthConfig {
                pins: config.auth,
                ..axon::auth::AuthConfig::default()
            })
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
        // Python's checks (blacklist, priority, verify) are called from this runtime's
        // blocking threads: bounded, so a flood waits for them rather than making threads.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .max_blocking_threads(64)
            .thread_name("axon_rs")
            .build()
            .map_err(runtime_error)?;
        Ok(Server {
            runtime: Runtime(Some(runtime)),
            axon: Mutex::new(Some(axon)),
            hotkey: ss58,
            attached: Mutex::new(Vec::new()),
            policy: Mutex::new(None),
            endpoints: Mutex::new(Vec::new()),
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
        let mut attached = self.attached.lock().unwrap_or_else(|p| p.into_inner());
        if self.started() || attached.iter().any(|a| a.schema.name() == schema.name()) {
            return Err(runtime_error(match self.started() {
                true => "attach before start".to_owned(),
                false => format!("{} is attached already", schema.name()),
            }));
        }
        attached.push(Attached {
            blacklist: has("blacklist"),
            priority: has("priority"),
            verify: has("verify"),
            schema,
            route,
        });
        Ok(())
    }

    /// Serves the signed-HTTP endpoint `method` `path` with the handler of `route` (its
    /// `run`, and `blacklist` and `priority` when `blacklist`/`priority`): btauth/1 and
    /// Epistula as `btauth`/`epistula` say, senders of the crypto types `crypto`
    /// (bittensor's codes; empty: every type), requests bound to no receiver when
    /// `unbound`, within `timeout` seconds and `max_body` bytes when given.
    #[pyo3(signature = (method, path, btauth, epistula, crypto, unbound, timeout, max_body, route, blacklist, priority))]
    #[allow(clippy::too_many_arguments)] // one keyword argument each on the Python side
    fn endpoint(
        &self,
        method: &str,
        path: &str,
        btauth: bool,
        epistula: bool,
        crypto: Vec<i64>,
        unbound: bool,
        timeout: Option<f64>,
        max_body: Option<usize>,
        route: Py<PyAny>,
        blacklist: bool,
        priority: bool,
    ) -> PyResult<()> {
        let invalid = |e: axon::endpoint::DeclarationError| PyValueError::new_err(e.to_string());
        if !btauth && !epistula {
            return Err(PyValueError::new_err(
                "an endpoint accepts btauth/1, Epistula or both: auth=(\"btauth\", \"epistula\")",
            ));
        }
        let crypto = crypto
            .into_iter()
            .map(|code| {
                Crypto::from_code(code).ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "crypto type {code} is neither sr25519 (1) nor ed25519 (0)"
                    ))
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        let mut declaration = Declaration::parse(method, path)
            .map_err(invalid)?
            .btauth(btauth)
            .epistula(epistula)
            .unbound(unbound);
        declaration = declaration.accept_crypto(&crypto).map_err(invalid)?;
        if let Some(seconds) = timeout {
            let timeout = Duration::try_from_secs_f64(seconds)
                .ok()
                .filter(|t| !t.is_zero())
                .ok_or_else(|| {
                    PyValueError::new_err("timeout must be a positive number of seconds")
                })?;
            declaration = declaration.timeout(timeout);
        }
        if let Some(bytes) = max_body {
            declaration = declaration.max_body(bytes);
        }
        let mut endpoints = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        if self.started() {
            return Err(runtime_error("add endpoints before start"));
        }
        let label = declaration.label();
        if endpoints.iter().any(|e| e.declaration.label() == label) {
            return Err(PyValueError::new_err(format!(
                "{label} is an endpoint already"
            )));
        }
        endpoints.push(AttachedEndpoint {
            declaration,
            route: EndpointRoute::new(route),
            blacklist,
            priority,
        });
        Ok(())
    }

    /// Switches on the built-in metagraph policies for every synapse type: the metagraph of
    /// `netuid` read from `endpoint` now and every `interval` seconds, refusing everything
    /// once older than `max_age` seconds (fail closed). `blacklist` is `registered`,
    /// `validator` or `min_stake` (with `min_stake` rao), run in Rust before the miner's own
    /// blacklist; `stake_priority` orders the waiting by the caller's stake unless the
    /// miner gives its own priority. The GIL is released meanwhile.
    #[pyo3(signature = (endpoint, netuid, blacklist, min_stake, stake_priority, interval, max_age))]
    #[allow(clippy::too_many_arguments)] // one keyword argument each on the Python side
    fn policies(
        &self,
        py: Python<'_>,
        endpoint: String,
        netuid: u16,
        blacklist: Option<String>,
        min_stake: Option<u64>,
        stake_priority: bool,
        interval: f64,
        max_age: f64,
    ) -> PyResult<()> {
        let blacklist = match (blacklist.as_deref(), min_stake) {
            (None, _) => None,
            (Some("registered"), _) => Some(PolicyBlacklist::Registered),
            (Some("validator"), _) => Some(PolicyBlacklist::Validator),
            (Some("min_stake"), Some(min)) => Some(PolicyBlacklist::MinStake(min)),
            (Some(other), _) => {
                return Err(PyValueError::new_err(format!(
                    "blacklist {other:?}: use \"registered\", \"validator\", or \"min_stake\" with min_stake=RAO"
                )))
            }
        };
        let seconds = |s: f64, what: &str| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                PyValueError::new_err(format!("{what} must be a positive number of seconds"))
            })
        };
        let options = SyncOptions {
            interval: seconds(interval, "interval")?,
            max_age: seconds(max_age, "max_age")?,
        };
        let metagraph = py.detach(|| {
            self.runtime.block_on(async {
                let chain = Subtensor::connect(&endpoint).await.map_err(runtime_error)?;
                Metagraph::sync(Arc::new(chain), netuid, options)
                    .await
                    .map_err(runtime_error)
            })
        })?;
        self.with(|axon| axon.metagraph(metagraph.clone()))?;
        *self.policy.lock().unwrap_or_else(|p| p.into_inner()) = Some(Policy {
            metagraph,
            blacklist,
            stake_priority,
        });
        Ok(())
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
            let attached =
                std::mem::take(&mut *self.attached.lock().unwrap_or_else(|p| p.into_inner()));
            let policy = self
                .policy
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            let endpoints =
                std::mem::take(&mut *self.endpoints.lock().unwrap_or_else(|p| p.into_inner()));
            let mut built = std::mem::take(axon);
            for one in attached {
                built = register(built, one, policy.as_ref());
            }
            for one in endpoints {
                let endpoint = one.route.endpoint(
                    one.declaration,
                    one.blacklist,
                    one.priority,
                    policy.as_ref(),
                );
                built = built.endpoint(endpoint);
            }
            *axon = built;
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

//! `axon_rs._native`: the extension module under the `axon_rs` Python package.
//!
//! `Server` is the Rust axon with its synapse types declared at run time
//! ([`axon::SynapseSchema`]) from Python classes; `route` runs their Python functions. The
//! Python around it (`axon_rs/_axon.py`) reads the classes and checks the functions, as
//! bittensor's `Axon.attach` does.

mod endpoint;
mod logs;
mod route;
mod server;

use pyo3::prelude::*;

/// The package's version (this workspace's, the same as the wheel's), and the server.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<server::Server>()?;
    module.add_function(wrap_pyfunction!(server::flags, module)?)?;
    module.add_function(wrap_pyfunction!(server::read_metagraph, module)?)?;
    module.add_function(wrap_pyfunction!(server::tls_key, module)?)?;
    module.add_function(wrap_pyfunction!(logs::take_logs, module)?)?;
    Ok(())
}

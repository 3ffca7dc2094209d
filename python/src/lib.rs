//! `axon_rs._native`: the extension module under the `axon_rs` Python package.

use pyo3::prelude::*;

/// The package's version: this workspace's, the same as the wheel's.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

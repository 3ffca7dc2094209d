"""axon_rs: the Rust axon for Bittensor miners, from Python."""

from ._native import __version__

__all__ = ["__version__"]

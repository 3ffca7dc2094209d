"""axon_rs: the Rust axon for Bittensor miners, from Python.

`axon_rs.Axon` takes bittensor's `Axon` calls (`attach`, `start`, `info`, `stop`) and serves
the miner's own `bittensor.Synapse` classes with the Rust axon.
"""

from ._axon import Axon
from ._native import __version__

__all__ = ["Axon", "__version__"]

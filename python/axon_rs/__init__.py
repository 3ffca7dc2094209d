"""axon_rs: the Rust axon for Bittensor miners, from Python.

`axon_rs.Axon` takes bittensor's `Axon` calls (`attach`, `start`, `info`, `stop`) and serves
the miner's synapse classes with the Rust axon: classes declared on `bittensor.Synapse`
(bittensor 9 and 10), or on `axon_rs.Synapse`, which has bittensor 10's wire on pydantic alone
(bittensor 11, or no bittensor at all). `Axon.endpoint` serves bittensor 11's signed HTTP
(btauth/1) and Epistula on the same port, its handlers written in Python.
"""

from ._axon import Axon, AxonInfo
from ._endpoint import Caller, HandlerError
from ._metagraph import Metagraph
from ._native import __version__, tls_key
from ._synapse import StreamingResponse, StreamingSynapse, Synapse, TerminalInfo

__all__ = [
    "Axon",
    "AxonInfo",
    "Caller",
    "HandlerError",
    "Metagraph",
    "StreamingResponse",
    "StreamingSynapse",
    "Synapse",
    "TerminalInfo",
    "__version__",
    "tls_key",
]

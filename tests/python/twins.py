"""What the dendrite and axon scripts share: the offline patch (no network in tests, while a
dendrite looks its external IP up at construction) and the Python twin of the suites'
`Echo` synapse (`tests/support/mod.rs`). Import it before anything else of bittensor."""

import typing

import bittensor.utils.networking as networking

networking.get_external_ip = lambda: "127.0.0.1"

import bittensor as bt  # noqa: E402


class Echo(bt.Synapse):
    text: str
    n: int
    out: typing.Optional[str] = None
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("text", "n")

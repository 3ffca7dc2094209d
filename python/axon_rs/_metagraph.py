"""`axon_rs.Metagraph`: a subnet's neurons under bittensor 10's metagraph attribute names,
read by the Rust axon's chain client.

bittensor 11 reads its metagraph through runtime APIs that older runtimes lack; this one reads
the storage maps (`Keys`, `Owner`, `TotalHotkeyAlpha`, `ValidatorPermit`, `LastUpdate`), as
the Rust `Metagraph` does, so the subnet template's blacklist and priority code reads it
unchanged: `metagraph.hotkeys.index(hotkey)`, `metagraph.validator_permit[uid]`,
`metagraph.S[uid]`.
"""

import typing

from . import _native


class Metagraph:
    """Subnet `netuid` as read from `subtensor` (a bittensor `Subtensor`, or a chain endpoint
    `ws://..`/`wss://..`) at the last `sync()`.

    ```python
    metagraph = axon_rs.Metagraph(netuid=1, subtensor="ws://127.0.0.1:9944")
    uid = metagraph.hotkeys.index(hotkey)
    metagraph.validator_permit[uid], metagraph.S[uid]
    ```
    """

    def __init__(self, netuid: int, subtensor: typing.Any, sync: bool = True):
        self.netuid = int(netuid)
        self.subtensor = subtensor
        self.block = 0
        self.uids: typing.List[int] = []
        self.hotkeys: typing.List[str] = []
        self.coldkeys: typing.List[str] = []
        self.stake: typing.List[int] = []
        self.S: typing.List[float] = []
        self.validator_permit: typing.List[bool] = []
        self.last_update: typing.List[int] = []
        self._tls_keys: typing.Dict[str, bytes] = {}
        if sync:
            self.sync()

    @property
    def n(self) -> int:
        """The number of neurons."""
        return len(self.uids)

    def sync(self, subtensor: typing.Any = None) -> "Metagraph":
        """Reads the subnet again (from `subtensor` when given); the attributes change only
        once the whole read succeeded. Raises `RuntimeError` when the chain does not answer."""
        from ._axon import _endpoint

        block, neurons = _native.read_metagraph(_endpoint(subtensor or self.subtensor), self.netuid)
        self.block = block
        self.uids = [n[0] for n in neurons]
        self.hotkeys = [n[1] for n in neurons]
        self.coldkeys = [n[2] for n in neurons]
        self.stake = [n[3] for n in neurons]
        # bittensor's `S`: the stake in whole units (the smallest unit is 1e-9).
        self.S = [n[3] / 1e9 for n in neurons]
        self.validator_permit = [n[4] for n in neurons]
        self.last_update = [n[5] for n in neurons]
        self._tls_keys = {n[1]: n[6] for n in neurons if n[6] is not None}
        return self

    def tls_key(self, hotkey: str) -> typing.Optional[bytes]:
        """The TLS key `hotkey` published with `serve_axon_tls`, as the chain holds it (the
        algorithm byte, 1 for ed25519 or 2 for compressed P-256, then the key), or None.
        Compare it with `axon_rs.tls_key(der)` of the certificate a miner's https server
        presents, to pin it."""
        return self._tls_keys.get(hotkey)

    def __repr__(self):
        return f"Metagraph(netuid={self.netuid}, n={self.n}, block={self.block})"

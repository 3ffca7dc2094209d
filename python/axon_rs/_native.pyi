"""Type stubs of the extension module."""

from typing import Any, List, Optional, Sequence, Tuple

__version__: str

def flags() -> Sequence[Tuple[str, bool, bool]]: ...
def take_logs(timeout: float) -> Tuple[List[Tuple[int, str, str]], int]: ...
def read_metagraph(
    endpoint: str, netuid: int
) -> Tuple[int, List[Tuple[int, str, str, int, bool, int, Optional[bytes]]]]: ...
def tls_key(der: bytes) -> Optional[bytes]: ...

class Server:
    """The Rust axon behind one `axon_rs.Axon`."""

    def __init__(
        self,
        hotkey: Any,
        coldkey: Optional[str],
        ip: str,
        port: int,
        external_ip: Optional[str],
        external_port: Optional[int],
        max_workers: int,
        config: Sequence[str],
    ) -> None: ...
    def attach(
        self,
        name: str,
        fields: Sequence[Tuple[str, bool, Any]],
        hash_fields: Sequence[str],
        python_hash: bool,
        route: Any,
    ) -> None: ...
    def endpoint(
        self,
        method: str,
        path: str,
        btauth: bool,
        epistula: bool,
        crypto: Sequence[int],
        unbound: bool,
        timeout: Optional[float],
        max_body: Optional[int],
        route: Any,
        blacklist: bool,
        priority: bool,
    ) -> None: ...
    def policies(
        self,
        endpoint: str,
        netuid: int,
        blacklist: Optional[str],
        min_stake: Optional[int],
        stake_priority: bool,
        interval: float,
        max_age: float,
    ) -> None: ...
    def serve(self, endpoint: str, netuid: int) -> str: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def info(self) -> Tuple[str, int, str, Optional[str]]: ...
    def local_port(self) -> Optional[int]: ...
    def load(self) -> Optional[Tuple[int, int]]: ...
    def hotkey(self) -> str: ...

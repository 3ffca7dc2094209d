"""`axon_rs.Axon`: bittensor's `Axon` API over the Rust axon.

The network side (connections, limits, headers, signatures, replay, admission, the body and
its hash, the answer) runs in Rust without the GIL. Python runs only what only Python can:
building the user's synapse class from the request's JSON, the user's functions, and (for
hashed fields whose `str()` depends on pydantic's coercion) the class's own `body_hash`.
"""

import asyncio
import dataclasses
import inspect
import os
import signal
import sys
import threading
import typing
from inspect import Parameter, Signature

from . import _native
from ._endpoint import _auth, _check_handler, _check_policy, _crypto, _EndpointRoute
from ._synapse import Synapse

# The types whose JSON value has the same `str()` in Rust as the validated Python value, so
# the Rust core hashes them without the GIL. Any other hashed field: the class's `body_hash`.
_PLAIN = (str, int, bool)


def _plain(annotation) -> bool:
    """Whether a field of this annotation hashes the same from its JSON value."""
    if annotation in _PLAIN:
        return True
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, typing.List):
        return len(args) == 1 and _plain(args[0])
    if origin in (dict, typing.Dict):
        return len(args) == 2 and args[0] is str and _plain(args[1])
    if origin is typing.Union:
        rest = [a for a in args if a is not type(None)]
        return len(rest) == 1 and _plain(rest[0])
    return False


class _Logs:
    """Hands the Rust axon's log lines to Python's `logging` (bittensor's logger when
    bittensor is installed, `axon_rs` otherwise), in batches, from one daemon thread that
    waits for them with the GIL released."""

    _started = False
    _lock = threading.Lock()

    @classmethod
    def start(cls):
        with cls._lock:
            if cls._started:
                return
            cls._started = True
        threading.Thread(target=cls._run, name="axon_rs-logs", daemon=True).start()

    @staticmethod
    def _run():
        import logging

        try:
            import bittensor  # noqa: F401

            logger = logging.getLogger("bittensor")
        except ImportError:
            logger = logging.getLogger("axon_rs")
        while True:
            lines, dropped = _native.take_logs(1.0)
            for level, _target, text in lines:
                logger.log(level, text)
            if dropped:
                logger.warning("axon_rs: %d log lines dropped (more than 4096 were waiting)", dropped)


class _Loop:
    """The asyncio loop that runs async functions, in a thread the package owns."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="axon_rs-asyncio", daemon=True
        )
        self.thread.start()

    def submit(self, awaitable, done):
        async def run():
            return await awaitable

        asyncio.run_coroutine_threadsafe(run(), self.loop).add_done_callback(done)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


class _Route:
    """What the Rust core calls for one synapse class: each function run on a synapse built
    from the request's JSON, its answer given to `done(ok, value)`."""

    def __init__(self, cls, fns, loop):
        self.cls = cls
        self.fns = fns
        self.loop = loop

    def run(self, which, body, done):
        fn = self.fns[which]
        # A verify's refusal is bittensor's `Not Verified with error: {str(e)}`; the others'
        # exceptions are named with their type, for the log.
        describe = str if which == "verify" else _describe
        try:
            synapse = self.cls.model_validate_json(body)
            result = fn(synapse)
        except BaseException as e:  # noqa: B036: the Rust core answers it
            done(False, describe(e))
            return
        if inspect.isawaitable(result):

            def finished(future):
                try:
                    value = future.result()
                except BaseException as e:  # noqa: B036
                    done(False, describe(e))
                    return
                self._answer(which, synapse, value, done)

            self.loop().submit(result, finished)
        else:
            self._answer(which, synapse, result, done)

    def _answer(self, which, synapse, value, done):
        try:
            if which == "forward" and hasattr(value, "token_streamer"):
                # `synapse.create_streaming_response(token_streamer)`: the headers now, the
                # chunks from `stream`.
                out = getattr(value, "synapse", None) or synapse
                done(True, ("stream", out.model_dump_json(), value.token_streamer))
            elif which == "forward":
                out = value if value is not None else synapse
                done(True, out.model_dump_json())
            elif which == "blacklist":
                blocked, reason = value
                done(True, (bool(blocked), str(reason)))
            elif which == "priority":
                done(True, float(value))
            else:
                done(True, None)
        except BaseException as e:  # noqa: B036
            done(False, _describe(e))

    def hash(self, body):
        return self.cls.model_validate_json(body).body_hash

    def stream(self, token_streamer, push, done):
        """Runs `token_streamer(send)` on the loop: each body chunk it sends goes to
        `push(chunk, settle)`, and `send` returns once the Rust side took it (`settle(ok)`:
        not ok when the client is gone, which raises in the streamer). `done(ok, error)`
        when it ends."""
        loop = self.loop()

        async def send(message):
            if message.get("type") != "http.response.body":
                return  # the start is the Rust side's: the synapse headers
            body = bytes(message.get("body", b""))
            if not body:
                return
            sent = loop.loop.create_future()

            def settle(ok):
                loop.loop.call_soon_threadsafe(_settle, sent, ok)

            push(body, settle)
            await sent

        def finished(future):
            try:
                future.result()
            except BaseException as e:  # noqa: B036
                done(False, _describe(e))
                return
            done(True, None)

        try:
            loop.submit(token_streamer(send), finished)
        except BaseException as e:  # noqa: B036
            done(False, _describe(e))


def _settle(future, ok):
    if future.done():
        return
    if ok:
        future.set_result(None)
    else:
        future.set_exception(ConnectionResetError("the client is gone"))


def _ping(synapse):
    """The ping: the Rust axon answers `Synapse` itself; this stands for it in `forward_fns`."""
    return synapse


def _describe(e):
    return f"{type(e).__name__}: {e}"


def _synapse_base():
    """The synapse base classes this package serves: `axon_rs.Synapse`, and bittensor's when
    installed (bittensor 11 has none)."""
    try:
        import bittensor

        return (bittensor.Synapse, Synapse)
    except (ImportError, AttributeError):
        return (Synapse,)


def _check_signatures(forward_fn, blacklist_fn, priority_fn, verify_fn):
    """The synapse class of `forward_fn`, and the signature checks bittensor's `attach` makes."""
    forward_sig = inspect.signature(forward_fn)
    try:
        first_param = next(iter(forward_sig.parameters.values()))
    except StopIteration:
        raise ValueError(
            "The forward_fn first argument must be a subclass of bittensor.Synapse, but it has no arguments"
        )
    cls = first_param.annotation
    bases = _synapse_base()
    assert isinstance(cls, type) and issubclass(cls, bases), (
        "The first argument of forward_fn must inherit from bittensor.Synapse"
    )
    name = cls.__name__
    expected = [Parameter("synapse", Parameter.POSITIONAL_OR_KEYWORD, annotation=cls)]
    if blacklist_fn:
        assert inspect.signature(blacklist_fn) == Signature(
            expected, return_annotation=typing.Tuple[bool, str]
        ), f"The blacklist_fn function must have the signature: blacklist( synapse: {name} ) -> tuple[bool, str]"
    if priority_fn:
        assert inspect.signature(priority_fn) == Signature(expected, return_annotation=float), (
            f"The priority_fn function must have the signature: priority( synapse: {name} ) -> float"
        )
    if verify_fn:
        assert inspect.signature(verify_fn) == Signature(expected, return_annotation=None), (
            f"The verify_fn function must have the signature: verify( synapse: {name} ) -> None"
        )
    return cls


def _schema(cls):
    """The class's own fields (required, or with their defaults as JSON), its hashed fields,
    and whether Python must hash it."""
    own = [f for f in cls.model_fields if f not in _common_fields()]
    required = [f for f in own if cls.model_fields[f].is_required()]
    optional = [f for f in own if f not in required]
    defaults = cls.model_construct().model_dump(mode="json", include=set(optional))
    fields = [(f, f in required, defaults.get(f)) for f in own]
    hash_fields = list(getattr(cls, "required_hash_fields", ()) or ())
    hints = typing.get_type_hints(cls)
    python_hash = not all(_plain(hints.get(f)) for f in hash_fields)
    return fields, hash_fields, python_hash


def _common_fields():
    # bittensor's `Synapse` has the same fields (python/tests hold them equal).
    return set(Synapse.model_fields)


def _hotkey(wallet):
    """The wallet's hotkey keyfile, read in Rust; or, for an object that only holds
    keypairs, its hotkey `Keypair`, whose `sign` then signs the answers."""
    path = getattr(getattr(wallet, "hotkey_file", None), "path", None)
    if path is not None and os.path.exists(path):
        return str(path)
    hotkey = getattr(wallet, "hotkey", None)
    if hotkey is None or not hasattr(hotkey, "sign"):
        raise ValueError(
            "the wallet has neither a hotkey keyfile nor a `hotkey` keypair that signs: give a "
            "bittensor Wallet, or an object with `.hotkey` (and `.coldkeypub`) keypairs"
        )
    return hotkey


def _coldkey(wallet):
    """The wallet's coldkey address, for the axon's chain record; None when the wallet has no
    coldkeypub (bittensor 11's `Wallet` raises when its file is missing: the coldkey is only
    shown, never needed to serve)."""
    try:
        return getattr(getattr(wallet, "coldkeypub", None), "ss58_address", None)
    except (OSError, ValueError) as e:
        import logging

        logging.getLogger("axon_rs").warning("the wallet's coldkeypub is not readable (%s): the axon's record shows no coldkey", e)
        return None


def _config_args(config):
    """The `--axon.*` settings of a bittensor config object as the Rust axon's flags: the
    ones bittensor has, and the ones the Rust axon adds (`replay_store`, `reuse_port`,
    `trusted_proxy`, ..) when the miner's parser has them (`axon_rs.Axon.add_args`)."""
    args = []
    if config is None:
        return args
    for flag, _, _ in _native.flags():
        section, _, name = flag[2:].partition(".")
        if section not in ("axon", "priority", "auth"):
            continue
        value = getattr(getattr(config, section, None), name, None)
        if value is None:
            continue
        for one in value if isinstance(value, (list, tuple)) else [value]:
            text = ("true" if one else "false") if isinstance(one, bool) else str(one)
            args.append(f"{flag}={text}")
    return args


def _endpoint(subtensor):
    """The chain endpoint of a bittensor `Subtensor`, or the endpoint string given."""
    endpoint = subtensor if isinstance(subtensor, str) else getattr(subtensor, "chain_endpoint", None)
    if endpoint is None:
        raise ValueError("give a bittensor Subtensor or a chain endpoint (ws://.. or wss://..)")
    return endpoint


def _from_config(config, name, given, default):
    if given is not None:
        return given
    value = getattr(getattr(config, "axon", None), name, None) if config is not None else None
    return default if value is None else value


# bittensor 10.5.0's `version_as_int`, published as the axon's version when no bittensor 10
# is installed to say its own.
_VERSION_AS_INT = 10_005_000


@dataclasses.dataclass
class AxonInfo:
    """An axon's chain record, with the fields of bittensor's `AxonInfo` (returned by
    `Axon.info()` when bittensor 9 or 10 is not installed)."""

    version: int
    ip: str
    port: int
    ip_type: int
    hotkey: str
    coldkey: str
    protocol: int = 4
    placeholder1: int = 0
    placeholder2: int = 0


class Axon:
    """bittensor's `Axon`, served by the Rust axon.

    ```python
    axon = axon_rs.Axon(wallet=wallet, port=8091)
    axon.attach(forward_fn=forward, blacklist_fn=blacklist, priority_fn=priority)
    axon.start()
    ```
    """

    def __init__(
        self,
        wallet: typing.Any = None,
        config: typing.Any = None,
        port: typing.Optional[int] = None,
        ip: typing.Optional[str] = None,
        external_ip: typing.Optional[str] = None,
        external_port: typing.Optional[int] = None,
        max_workers: typing.Optional[int] = None,
    ) -> None:
        if wallet is None:
            import bittensor

            wallet = bittensor.Wallet(config=config)
        self.wallet = wallet
        self.config = config
        self.port = int(_from_config(config, "port", port, 8091))
        self.ip = _from_config(config, "ip", ip, "[::]")
        self.external_ip = _from_config(config, "external_ip", external_ip, None)
        self.external_port = _from_config(config, "external_port", external_port, None)
        self.max_workers = int(_from_config(config, "max_workers", max_workers, 10))
        hotkey = _hotkey(wallet)
        self._server = _native.Server(
            hotkey=hotkey,
            coldkey=_coldkey(wallet),
            ip=str(self.ip).strip("[]"),
            port=self.port,
            external_ip=self.external_ip,
            external_port=None if self.external_port is None else int(self.external_port),
            max_workers=self.max_workers,
            config=_config_args(config),
        )
        _Logs.start()
        # The built-in ping, which the Rust axon answers itself, listed as bittensor lists it.
        self.forward_class_types = {"Synapse": _synapse_base()[0]}
        self.forward_fns = {"Synapse": _ping}
        self.blacklist_fns = {"Synapse": None}
        self.priority_fns = {"Synapse": None}
        self.verify_fns = {"Synapse": None}
        self.endpoints = {}
        self.started = False
        self._loop = None

    @classmethod
    def add_args(cls, parser, prefix=None):
        """bittensor's `Axon.add_args`, and the `--axon.*` settings the Rust axon adds
        (`--axon.replay_store`, `--axon.reuse_port`, `--axon.trusted_proxy`, ..), so that a
        miner's `bt.Config(parser)` carries them to `axon_rs.Axon(config=..)`."""
        try:
            import bittensor

            bittensor.Axon.add_args(parser, prefix)
        except (ImportError, AttributeError):
            pass  # bittensor 11 has no Axon, or no bittensor: all of ours below
        known = {a for action in parser._actions for a in action.option_strings}
        for flag, boolean, repeatable in _native.flags():
            if not flag.startswith(("--axon.", "--auth.")) or flag in known:
                continue
            name = flag if prefix is None else f"--{prefix}.{flag[2:]}"
            if boolean:
                parser.add_argument(name, nargs="?", const=True, default=None,
                                    type=lambda v: v.lower() in ("true", "1", "yes"))
            elif repeatable:
                parser.add_argument(name, action="append", default=None)
            else:
                parser.add_argument(name, type=str, default=None)

    def _asyncio(self):
        if self._loop is None:
            self._loop = _Loop()
        return self._loop

    def attach(
        self,
        forward_fn: typing.Callable,
        blacklist_fn: typing.Optional[typing.Callable] = None,
        priority_fn: typing.Optional[typing.Callable] = None,
        verify_fn: typing.Optional[typing.Callable] = None,
    ) -> "Axon":
        """Serves the synapse class of `forward_fn`'s first argument, as bittensor's `attach`."""
        cls = _check_signatures(forward_fn, blacklist_fn, priority_fn, verify_fn)
        name = cls.__name__
        fields, hash_fields, python_hash = _schema(cls)
        fns = {"forward": forward_fn}
        for which, fn in (("blacklist", blacklist_fn), ("priority", priority_fn), ("verify", verify_fn)):
            if fn is not None:
                fns[which] = fn
        route = _Route(cls, fns, self._asyncio)
        self._server.attach(name, fields, hash_fields, python_hash, route)
        self.forward_class_types[name] = cls
        self.forward_fns[name] = forward_fn
        self.blacklist_fns[name] = blacklist_fn
        self.priority_fns[name] = priority_fn
        self.verify_fns[name] = verify_fn
        return self

    def endpoint(
        self,
        method: str,
        path: str,
        auth: typing.Union[str, typing.Sequence[str]] = ("btauth", "epistula"),
        crypto: typing.Optional[typing.Union[str, typing.Sequence[str]]] = None,
        unbound: bool = False,
        timeout: typing.Optional[float] = None,
        max_body: typing.Optional[int] = None,
        blacklist: typing.Optional[typing.Callable] = None,
        priority: typing.Optional[typing.Callable] = None,
    ) -> typing.Callable:
        """Serves a signed-HTTP endpoint on the axon's port, beside the synapses: a decorator
        for its handler, `def handler(caller: axon_rs.Caller, body: bytes)` (or `async def`).

        ```python
        @axon.endpoint("POST", "/v1/score", auth=("btauth", "epistula"))
        def score(caller: axon_rs.Caller, body: bytes) -> dict:
            return {"score": len(body), "hotkey": caller.hotkey_ss58}
        ```

        The Rust axon checks the signature (`auth`: bittensor 11's btauth/1, Epistula, or
        both), that it was signed for this axon's hotkey (`unbound=True` also accepts
        requests signed for no receiver), the nonce's freshness and replay, and the
        sender's crypto type (`crypto`: `"sr25519"`, `"ed25519"`, or both by default);
        within `timeout` seconds and `max_body` bytes (the axon's own limits otherwise).

        The handler returns a dict or list (JSON), `bytes`, `str`, a pydantic model, or a
        `(status, body)` pair of those; it raises `axon_rs.HandlerError(status, message)`
        to refuse. `blacklist(caller) -> (bool, str)` and `priority(caller) -> float` are
        plain functions of the claimed caller, run before the signature is checked; the
        metagraph policies of `policies(..)` apply to endpoints too, before them."""
        btauth, epistula = _auth(auth)
        codes = _crypto(crypto)
        label = f"{method} {path}"
        _check_policy(blacklist, "blacklist", label)
        _check_policy(priority, "priority", label)

        def register(fn):
            _check_handler(fn, label)
            route = _EndpointRoute(fn, blacklist, priority, self._asyncio)
            self._server.endpoint(
                method, path, btauth, epistula, codes, bool(unbound),
                None if timeout is None else float(timeout),
                None if max_body is None else int(max_body),
                route, blacklist is not None, priority is not None,
            )
            self.endpoints[label] = fn
            return fn

        return register

    def policies(
        self,
        subtensor: typing.Any,
        netuid: int,
        blacklist: typing.Optional[str] = "validator",
        min_stake: typing.Optional[int] = None,
        priority: typing.Optional[str] = "stake",
        sync_interval: float = 60.0,
        max_age: float = 300.0,
    ) -> "Axon":
        """Switches on the subnet template's policies, run in Rust with no Python in the hot
        path, for every synapse attached (before or after this call):

        - `blacklist`: `"registered"` (refuses hotkeys not registered on `netuid`),
          `"validator"` (and neurons without a validator permit), `"min_stake"` (and stakes
          below `min_stake` rao), or None. It runs before the miner's own blacklist.
        - `priority`: `"stake"` serves the most staked caller first, unless the miner's
          `attach` gives its own priority; or None.

        Signed-HTTP endpoints (`endpoint(..)`) get the same blacklist and priority, by the
        caller's hotkey.

        The metagraph is read from `subtensor` (a bittensor `Subtensor` or an endpoint) now
        and every `sync_interval` seconds; once it is older than `max_age` seconds (the chain
        stopped answering) every request is refused: the policies fail closed."""
        endpoint = _endpoint(subtensor)
        if priority not in (None, "stake"):
            raise ValueError(f'priority {priority!r}: use "stake" or None')
        self._server.policies(endpoint, int(netuid), blacklist, min_stake, priority == "stake",
                              float(sync_interval), float(max_age))
        return self

    def serve(self, netuid: int, subtensor: typing.Any = None) -> "Axon":
        """Publishes this axon on chain for `netuid` (`serve_axon`, signed by the hotkey),
        as bittensor's `serve`. `subtensor` is a bittensor `Subtensor` (its endpoint is
        used) or a chain endpoint, `ws://..` or `wss://..`. Nothing is submitted when the
        chain already holds the same record."""
        self._server.serve(_endpoint(subtensor), int(netuid))
        return self

    def start(self) -> "Axon":
        """Starts serving; returns once the port is listening.

        From the main thread, SIGTERM and Ctrl-C then drain the axon (every request it
        received is answered) before they end the process, however the main thread waits
        (a miner's `while True: time.sleep(..)`): SIGTERM exits with status 0, Ctrl-C
        raises `KeyboardInterrupt` as before. A handler the miner installed itself is left
        alone."""
        self._server.start()
        self.started = True
        self._install_signals()
        return self

    def _install_signals(self):
        if threading.current_thread() is not threading.main_thread():
            return
        self._signals = {}
        for signum, default in ((signal.SIGTERM, signal.SIG_DFL), (signal.SIGINT, signal.default_int_handler)):
            if signal.getsignal(signum) is default:
                self._signals[signum] = default
                signal.signal(signum, self._drain_and_end)

    def _drain_and_end(self, signum, frame):
        self.stop()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        sys.exit(0)

    def _restore_signals(self):
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, previous in getattr(self, "_signals", {}).items():
            if signal.getsignal(signum) == self._drain_and_end:
                signal.signal(signum, previous)
        self._signals = {}

    def stop(self) -> "Axon":
        """Stops serving: the requests received are answered first."""
        self._server.stop()
        self._restore_signals()
        self.started = False
        if self._loop is not None:
            self._loop.close()
            self._loop = None
        return self

    def info(self):
        """The axon's chain record (`bittensor.AxonInfo` with bittensor 9 or 10 installed,
        else `axon_rs.AxonInfo`, which has its fields). Before `start`, from the settings: the
        external address and port when given, else the local ones (the external address is
        discovered at `start`, when not given)."""
        if self.started:
            ip, port, hotkey, coldkey = self._server.info()
        else:
            ip = str(self.external_ip or self.ip).strip("[]")
            port = int(self.external_port or self.port)
            hotkey = self._server.hotkey()
            coldkey = _coldkey(self.wallet)
        try:
            import bittensor

            make, version = bittensor.AxonInfo, bittensor.core.settings.version_as_int
        except (ImportError, AttributeError):
            make, version = AxonInfo, _VERSION_AS_INT
        return make(
            version=version,
            ip=ip,
            ip_type=6 if ":" in ip else 4,
            port=port,
            hotkey=hotkey,
            coldkey=coldkey or "",
            protocol=4,
            placeholder1=0,
            placeholder2=0,
        )

    def load(self):
        """`{"running": n, "waiting": m}`: requests past admission (reading their body or in
        their forward) and requests waiting for a worker, by priority; None before start."""
        load = self._server.load()
        return None if load is None else {"running": load[0], "waiting": load[1]}

    @property
    def local_port(self):
        """The port listened on (the one asked for, or the one the system chose for 0)."""
        return self._server.local_port()

    def __str__(self):
        started = "started" if self.started else "stopped"
        return f"Axon({self.ip}, {self.port}, {self._server.hotkey()}, {started}, {list(self.forward_fns)})"

    __repr__ = __str__

"""Signed-HTTP endpoints in Python: `axon_rs.Caller`, `axon_rs.HandlerError`, and the route
the Rust axon calls for `@axon.endpoint(..)`.

The Rust axon reads the request, checks its signature (btauth/1 or Epistula), the receiver,
the nonce's freshness and replay, the crypto-type pins and the limits, and admits it to a
worker, before Python sees it. The handler gets the verified `Caller` and the raw body.
"""

import dataclasses
import inspect
import json
import typing

# bittensor's crypto type codes (bittensor_core's CRYPTO_SR25519 / CRYPTO_ED25519).
_CRYPTO = {"sr25519": 1, "ed25519": 0}
_SCHEMES = ("btauth", "epistula")


@dataclasses.dataclass(frozen=True)
class Caller:
    """The verified sender of a signed-HTTP request: bittensor 11's `http_auth.Caller`
    fields (`hotkey_ss58`, `nonce_ns`, `crypto_type`, in bittensor's codes: sr25519 1,
    ed25519 0), the scheme that signed it (`"btauth/1"` or `"epistula"`), the client's ip
    (behind a trusted proxy, the one it names) and the hotkey it was signed for."""

    hotkey_ss58: str
    nonce_ns: int
    crypto_type: int
    scheme: str
    ip: typing.Optional[str] = None
    receiver_ss58: typing.Optional[str] = None


class HandlerError(Exception):
    """Raised by an endpoint's handler: the request is answered `status` (4xx or 5xx) with
    `{"message": message}`, as the axon's own refusals are."""

    def __init__(self, status: int, message: str):
        super().__init__(status, message)
        self.status = int(status)
        self.message = str(message)

    def __str__(self):
        return f"{self.status}: {self.message}"


def _auth(auth):
    schemes = (auth,) if isinstance(auth, str) else tuple(auth)
    unknown = [s for s in schemes if s not in _SCHEMES]
    if unknown or not schemes:
        raise ValueError(f"auth={auth!r}: name \"btauth\", \"epistula\" or both")
    return "btauth" in schemes, "epistula" in schemes


def _crypto(crypto):
    if crypto is None:
        return []
    names = (crypto,) if isinstance(crypto, (str, int)) else tuple(crypto)
    codes = []
    for name in names:
        if isinstance(name, int) and name in _CRYPTO.values():
            codes.append(name)
        elif name in _CRYPTO:
            codes.append(_CRYPTO[name])
        else:
            raise ValueError(f"crypto={crypto!r}: name \"sr25519\", \"ed25519\" or both")
    return codes


def _check_handler(fn, label):
    try:
        inspect.signature(fn).bind(None, b"")
    except TypeError:
        raise TypeError(
            f"The handler of {label} must take the caller and the body: "
            "def handler(caller: axon_rs.Caller, body: bytes) -> dict"
        ) from None
    except ValueError:
        pass  # a builtin without a signature: called as it is


def _check_policy(fn, which, label):
    if fn is None:
        return
    if inspect.iscoroutinefunction(fn):
        raise TypeError(
            f"The {which} of {label} runs before the signature is checked and must be a plain "
            f"function: def {which}(caller: axon_rs.Caller) -> "
            + ("tuple[bool, str]" if which == "blacklist" else "float")
        )
    try:
        inspect.signature(fn).bind(None)
    except TypeError:
        raise TypeError(
            f"The {which} of {label} must take the caller: def {which}(caller: axon_rs.Caller)"
        ) from None
    except ValueError:
        pass


def _answer(value):
    """A handler's return value as `(status, content_type, body)`."""
    status = 200
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], int):
        status, value = value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return status, "application/octet-stream", bytes(value)
    if isinstance(value, str):
        return status, "text/plain; charset=utf-8", value.encode("utf-8")
    if hasattr(value, "model_dump_json"):
        return status, "application/json", value.model_dump_json().encode("utf-8")
    # FastAPI's JSONResponse layout: compact, UTF-8, no NaN.
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return status, "application/json", text.encode("utf-8")


class _EndpointRoute:
    """What the Rust core calls for one endpoint."""

    def __init__(self, fn, blacklist, priority, loop):
        self.fn = fn
        self.blacklist_fn = blacklist
        self.priority_fn = priority
        self.loop = loop

    def run(self, caller, body, done):
        try:
            result = self.fn(Caller(*caller), body)
        except BaseException as e:  # noqa: B036: the Rust core answers it
            done(*_failed(e))
            return
        if inspect.isawaitable(result):

            def finished(future):
                try:
                    value = future.result()
                except BaseException as e:  # noqa: B036
                    done(*_failed(e))
                    return
                self._done(value, done)

            self.loop().submit(result, finished)
        else:
            self._done(result, done)

    @staticmethod
    def _done(value, done):
        try:
            answer = _answer(value)
        except BaseException as e:  # noqa: B036
            done(False, f"the handler's answer: {type(e).__name__}: {e}")
            return
        done(True, answer)

    def blacklist(self, caller):
        verdict = self.blacklist_fn(Caller(*caller))
        if isinstance(verdict, bool):
            return verdict, ""
        blocked, reason = verdict
        return bool(blocked), str(reason)

    def priority(self, caller):
        return float(self.priority_fn(Caller(*caller)))


def _failed(e):
    if isinstance(e, HandlerError):
        return True, ("refused", e.status, e.message)
    return False, f"{type(e).__name__}: {e}"

"""`axon_rs.Synapse` and `axon_rs.StreamingSynapse`: bittensor 10's synapse classes on
pydantic alone, for miners on bittensor 11 (which has none) or with no bittensor at all.

A class declared on them has the wire of the same class declared on `bittensor.Synapse`
10.5.0: its headers (`to_headers`, including `bt_header_input_obj_*`), its body hash
(`required_hash_fields`), its JSON, `from_headers` and `deserialize`. `python/tests` holds
them to bittensor's, value for value. Nothing here talks to the network: the Rust axon
serves them (`axon_rs.Axon.attach`).
"""

import base64
import hashlib
import json
import logging
import sys
import typing
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_log = logging.getLogger("axon_rs")


def _sha3(text: str) -> str:
    """bittensor's `get_hash`: the hex SHA3-256 of the UTF-8 text."""
    return hashlib.sha3_256(text.encode("utf-8")).hexdigest()


def _size(obj: Any, seen: Optional[set] = None) -> int:
    """bittensor's `total_size`: `sys.getsizeof` summed over an object and what it holds
    (dict keys and values, an object's `__dict__`, the items of other iterables but
    strings and bytes), each object counted once."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(_size(v, seen) for v in obj.values())
        size += sum(_size(k, seen) for k in obj.keys())
    elif hasattr(obj, "__dict__"):
        size += _size(obj.__dict__, seen)
    elif hasattr(obj, "__iter__") and not isinstance(obj, (str, bytes, bytearray)):
        size += sum(_size(item, seen) for item in obj)
    return size


def _as(kind):
    """A before-validator turning a header's text into `kind` (None stays None)."""

    def cast(raw):
        return raw if raw is None else kind(raw)

    return cast


class TerminalInfo(BaseModel):
    """One end of a call (`synapse.dendrite`, `synapse.axon`), as bittensor's."""

    model_config = ConfigDict(validate_assignment=True)

    status_code: Optional[int] = None
    status_message: Optional[str] = None
    process_time: Optional[float] = None
    ip: Optional[str] = None
    port: Optional[int] = None
    version: Optional[int] = None
    nonce: Optional[int] = None
    uuid: Optional[str] = None
    hotkey: Optional[str] = None
    signature: Optional[str] = None

    _cast_process_time = field_validator("process_time", mode="before")(_as(float))
    _cast_port = field_validator("port", mode="before")(_as(int))
    _cast_version = field_validator("version", mode="before")(_as(int))
    _cast_nonce = field_validator("nonce", mode="before")(_as(int))
    _cast_status_code = field_validator("status_code", mode="before")(_as(int))


class Synapse(BaseModel):
    """bittensor 10's `Synapse`: declare a request's fields on it, name the ones the
    caller signs in `required_hash_fields`, and attach a forward taking it.

    ```python
    class Echo(axon_rs.Synapse):
        text: str
        out: typing.Optional[str] = None
        required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("text",)
    ```
    """

    model_config = ConfigDict(validate_assignment=True)

    name: Optional[str] = Field(default=None, repr=False)
    timeout: Optional[float] = Field(default=12.0, repr=False)
    total_size: Optional[int] = Field(default=0, repr=False)
    header_size: Optional[int] = Field(default=0, repr=False)
    dendrite: Optional[TerminalInfo] = Field(default=TerminalInfo(), repr=False)
    axon: Optional[TerminalInfo] = Field(default=TerminalInfo(), repr=False)
    computed_body_hash: Optional[str] = Field(default="", frozen=True, repr=False)

    required_hash_fields: ClassVar[typing.Tuple[str, ...]] = ()

    _cast_total_size = field_validator("total_size", mode="before")(_as(int))
    _cast_header_size = field_validator("header_size", mode="before")(_as(int))
    _cast_timeout = field_validator("timeout", mode="before")(_as(float))

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs):
        super().__pydantic_init_subclass__(**kwargs)
        if "required_hash_fields" in cls.model_fields:
            raise TypeError(
                f"{cls.__name__}.required_hash_fields is a field; declare it as a class "
                "variable: `required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = (..)`"
            )
        unknown = [f for f in cls.required_hash_fields if f not in cls.model_fields]
        if unknown:
            raise TypeError(
                f"{cls.__name__}.required_hash_fields names {unknown}, which are not fields of it"
            )

    @model_validator(mode="before")
    @classmethod
    def _set_name(cls, values):
        # The route: the class's own name, whatever the input says (as bittensor).
        if isinstance(values, dict):
            values["name"] = cls.__name__
        return values

    def deserialize(self) -> "Synapse":
        """What a validator's `Dendrite(..., deserialize=True)` returns: the synapse itself,
        unless a subclass says otherwise."""
        return self

    def __setattr__(self, name: str, value: Any):
        if name == "body_hash":
            raise AttributeError("body_hash property is read-only and cannot be overridden.")
        super().__setattr__(name, value)

    def get_total_size(self) -> int:
        """The synapse's size in memory, by bittensor's measure; also stored in `total_size`."""
        self.total_size = _size(self)
        return self.total_size

    @property
    def is_success(self) -> bool:
        return self.dendrite is not None and self.dendrite.status_code == 200

    @property
    def is_failure(self) -> bool:
        return self.dendrite is not None and self.dendrite.status_code != 200

    @property
    def is_timeout(self) -> bool:
        return self.dendrite is not None and self.dendrite.status_code == 408

    @property
    def is_blacklist(self) -> bool:
        return self.dendrite is not None and self.dendrite.status_code == 403

    @property
    def failed_verification(self) -> bool:
        return self.dendrite is not None and self.dendrite.status_code == 401

    def get_required_fields(self):
        """The names of the fields without a default."""
        return self.__class__.model_json_schema().get("required", [])

    @property
    def body_hash(self) -> str:
        """The SHA3-256 of the hashes of `str()` of each field in `required_hash_fields`,
        in that order (of nothing, when there are none): what the caller signs."""
        fields = self.__class__.required_hash_fields
        hashes = []
        if fields:
            values = self.model_dump()
            hashes = [_sha3(str(values[f])) for f in fields]
        return _sha3("".join(hashes))

    def to_headers(self) -> dict:
        """The request's headers, as a bittensor 10 Dendrite sends them: `name`, `timeout`,
        each end's fields that are set, a `bt_header_input_obj_*` for each required field
        (the JSON of an empty value of its type, base64), the sizes and the body hash."""
        headers = {"name": self.name, "timeout": str(self.timeout)}
        for end, info in (("axon", self.axon), ("dendrite", self.dendrite)):
            if info:
                for k, v in info.model_dump().items():
                    if v is not None:
                        headers[f"bt_header_{end}_{k}"] = str(v)
        required = self.get_required_fields()
        for field, value in self.model_dump().items():
            if field in headers or value is None or field not in required:
                continue
            try:
                empty = json.dumps(value.__class__())
            except TypeError as e:
                raise ValueError(
                    f"Error serializing {field} with value {value}. Objects must be json serializable."
                ) from e
            headers[f"bt_header_input_obj_{field}"] = base64.b64encode(empty.encode()).decode("utf-8")
        headers["header_size"] = str(sys.getsizeof(headers))
        headers["total_size"] = str(self.get_total_size())
        headers["computed_body_hash"] = self.body_hash
        return headers

    @classmethod
    def parse_headers_to_inputs(cls, headers: dict) -> dict:
        """The constructor's arguments from a request's headers (the inverse of `to_headers`);
        a header that does not parse is logged and left out."""
        inputs: dict = {"axon": {}, "dendrite": {}}
        for key, value in headers.items():
            if "bt_header_axon_" in key:
                inputs["axon"][key.split("bt_header_axon_")[1]] = value
            elif "bt_header_dendrite_" in key:
                inputs["dendrite"][key.split("bt_header_dendrite_")[1]] = value
            elif "bt_header_input_obj" in key:
                try:
                    field = key.split("bt_header_input_obj_")[1]
                    if field in inputs:
                        continue
                    inputs[field] = json.loads(base64.b64decode(value.encode()).decode("utf-8"))
                except Exception as e:  # noqa: BLE001: logged and skipped, as bittensor
                    _log.error("Error while parsing 'input_obj' header %s: %s", key, e)
        for key in ("timeout", "name", "header_size", "total_size", "computed_body_hash"):
            inputs[key] = headers.get(key, None)
        return inputs

    @classmethod
    def from_headers(cls, headers: dict) -> "Synapse":
        """A synapse built from a request's headers alone."""
        return cls(**cls.parse_headers_to_inputs(headers))


class StreamingResponse:
    """What `StreamingSynapse.create_streaming_response` returns: the forward's answer whose
    body is what `token_streamer(send)` sends (ASGI `http.response.body` messages).

    The Rust axon runs `token_streamer` itself; the object is also an ASGI application, as
    bittensor's, for a miner that mounts it elsewhere."""

    def __init__(self, token_streamer, synapse=None):
        self.token_streamer = token_streamer
        self.synapse = synapse

    async def __call__(self, scope, receive, send):
        start = {"type": "http.response.start", "status": 200,
                 "headers": [(b"content-type", b"text/event-stream")]}
        await send(start)
        await self.token_streamer(send)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class StreamingSynapse(Synapse, ABC):
    """bittensor 10's `StreamingSynapse`: a forward answers with
    `synapse.create_streaming_response(token_streamer)`, whose chunks the validator reads as
    they come (`process_streaming_response`), then the final JSON (`extract_response_json`)."""

    model_config = ConfigDict(validate_assignment=True)

    @abstractmethod
    async def process_streaming_response(self, response):
        """The validator's side: yields what it reads from `response` (an aiohttp response)."""

    @abstractmethod
    def extract_response_json(self, response) -> dict:
        """The validator's side: the synapse's fields once the stream ended."""

    def create_streaming_response(self, token_streamer) -> StreamingResponse:
        """The forward's answer: `token_streamer(send)` sends the body chunks, each
        `await send({"type": "http.response.body", "body": b"..", "more_body": True})`,
        resuming once the axon took the chunk."""
        return StreamingResponse(token_streamer, synapse=self)

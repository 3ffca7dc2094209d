"""Golden vectors from the real bittensor package, for tests/golden.rs.

Prints one JSON document: Python's str() of many values, and, for each synapse case, what
bittensor 10.5.0 produces (model_dump_json, to_headers, body_hash, the body a dendrite sends,
from_headers). The Rust side defines the same synapses and values under the same ids.
"""
import hashlib
import json
import os
import sys
import unicodedata
from typing import Any, ClassVar, Optional

import bittensor as bt
from pydantic import BaseModel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from gen_printable import ranges as nonprintable_ranges  # noqa: E402  (the table's own generator)


def values():
    class Inner(BaseModel):
        a: int = 1
        b: str = "x"

    dump = lambda m: m.model_dump()
    return {
        "str_plain": "hello",
        "str_empty": "",
        "str_unicode": "héllo wörld 😀 中文",
        "str_quote": "it's",
        "list_quotes": ["it's", 'say "hi"', "both ' \"", "none"],
        "list_escapes": ["a\nb", "tab\t", "back\\slash", "\r", "\x00\x1f\x7f", "\x1b[0m"],
        "list_unicode": ["é", "\u00a0", "\u00ad", "\u200b", "\u2028", "\u3000", "\ufeff", "😀", "\U0010ffff", "\u0378", "\U000e0001"],
        "int_zero": 0,
        "int_neg": -42,
        "i64_max": 2**63 - 1,
        "i64_min": -(2**63),
        "u64_max": 2**64 - 1,
        "i128_min": -(2**127),
        "u128_max": 2**128 - 1,
        "big_pos": 2**200,
        "big_neg": -(2**300) - 7,
        "two53_plus_1": 2**53 + 1,
        "f_0_1": 0.1,
        "f_1_0": 1.0,
        "f_neg_zero": -0.0,
        "f_1e16": 1e16,
        "f_1e15": 1e15,
        "f_1e_7": 1e-7,
        "f_1e_5": 1e-5,
        "f_1e_4": 1e-4,
        "f_1_5e300": 1.5e300,
        "f_min_sub": 5e-324,
        "f_third": 1 / 3,
        "f_2_53_plus_2": 2.0**53 + 2,
        "f_inf": float("inf"),
        "f_neg_inf": float("-inf"),
        "f_nan": float("nan"),
        "f32_0_1": 0.1,
        "bool_true": True,
        "bool_false": False,
        "none": None,
        "list_ints": [1, 2, 3],
        "list_empty": [],
        "list_nested": [[1, [2, []]], []],
        "list_floats": [0.1, 1e16, -0.0, 1e-7],
        "list_optional": [None, "x"],
        "tuple_one": (1,),
        "tuple_mixed": (1, "a", 2.0, None, True),
        "list_tuples": [("a", 0.1), ("it's", -1.5)],
        "dict_simple": {"k": [1, 2]},
        "dict_empty": {},
        "dict_order": {"z": 1, "a": 2, "m": 3},
        "dict_nested": {"a": {"b": {"c": [1, {"d": None}]}}},
        "dict_int_keys": {1: "a", 2: "b"},
        "json_value": {"a": [1, 1.5, "x", None, True, {"b": []}], "c": "it's"},
        "model": dump(Inner(a=2, b="it's")),
        "list_models": [dump(Inner()), dump(Inner(a=-1, b="\n"))],
    }


class Inner(BaseModel):
    a: int = 1
    b: str = "x"


class Echo(bt.Synapse):
    text: str
    n: int
    out: Optional[str] = None
    required_hash_fields: ClassVar[tuple[str, ...]] = ("text", "n")


class TestSynapse(bt.Synapse):
    a: int
    b: int = None
    c: Optional[int] = None
    d: Optional[list[str]] = None
    required_hash_fields: ClassVar[tuple[str, ...]] = ("a", "b", "d")


class Kitchen(bt.Synapse):
    f: float = 0.0
    floats: list[float] = []
    pair: tuple[int, str] = (0, "")
    scores: dict[str, list[int]] = {}
    opt: Optional[int] = None
    flag: bool = False
    big: int = 0
    umax: int = 0
    inner: Inner = Inner()
    inners: list[Inner] = []
    anything: Any = None
    text: str = ""
    required_hash_fields: ClassVar[tuple[str, ...]] = (
        "f", "floats", "pair", "scores", "opt", "flag", "big", "umax", "inner", "inners", "anything", "text",
    )


class Scores(bt.Synapse):
    a: float = 0.1
    b: float = 1e16
    c: float = 1e-7
    d: float = -0.0
    e: float = 1.5e300
    g: list[float] = [1e-5, 1e-4, 123456789.125, 2.5e-05]
    required_hash_fields: ClassVar[tuple[str, ...]] = ("a", "b", "c", "d", "e", "g")


class TextGen(bt.Synapse):
    text: str = ""
    n: int = 0
    required_hash_fields: ClassVar[tuple[str, ...]] = ("n", "text")


class Required(bt.Synapse):
    s: str
    i: int
    f: float
    b: bool
    l: list[int]
    d: dict[str, int]
    m: Inner
    o: Optional[str]
    required_hash_fields: ClassVar[tuple[str, ...]] = ("s", "i", "f", "b", "l", "d", "m", "o")


class Slow(bt.Synapse):
    timeout: float = 60.0
    text: str = ""
    required_hash_fields: ClassVar[tuple[str, ...]] = ("text",)


def synapse_cases():
    terminal = Echo(text="with terminals", n=7, out="ok")
    terminal.dendrite = bt.TerminalInfo(
        ip="127.0.0.1", port=50123, version=10005000, nonce=1763769600123456789,
        uuid="5ecbd69c-1cec-11ee-b0dc-e29ce36fec1a", hotkey="5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
        signature="0x" + "ab" * 64,
    )
    terminal.axon = bt.TerminalInfo(
        status_code=200, status_message="Success", process_time=0.123,
        hotkey="5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty",
    )
    return {
        "echo": Echo(text="hello world", n=3),
        "echo_unicode": Echo(text="¿Qué tal? 😀 \"quoted\" it's\n\ttabbed", n=-12, out="done"),
        "bittensor_vector": TestSynapse(a=1, b=2, c=3, d=["foobar"]),
        "kitchen": Kitchen(
            f=0.1, floats=[1e16, 1e-7, -0.0, 1.5e300, 1.0], pair=(2**53 + 1, "it's"),
            scores={"zeta": [3, 1], "alpha": [], "mid": [2**62]}, opt=None, flag=True,
            big=2**200, umax=2**64 - 1, inner=Inner(a=5, b="nested 'q'"),
            inners=[Inner(), Inner(a=-1, b="é\n")],
            anything={"k": [1, 2.5, None, "s", {"deep": [True, False]}], "a": 1e-5},
            text="kitchen sink",
        ),
        "kitchen_empty": Kitchen(),
        "scores": Scores(),
        "textgen": TextGen(text="reversed order", n=42),
        "required": Required(s="s", i=1, f=2.5, b=True, l=[1, 2], d={"x": 1}, m=Inner(a=3), o=None),
        "required_some": Required(s="", i=0, f=0.0, b=False, l=[], d={}, m=Inner(), o="present"),
        "terminal": terminal,
        "base": bt.Synapse(),
        "slow": Slow(text="a subclass's own default timeout"),
    }


def slow_defaults():
    """What a subclass's own default timeout does when a body or the headers lack it."""
    headers = dict(Slow(text="y").to_headers())
    headers.pop("timeout")
    return {
        "json_without_timeout": Slow.model_validate_json('{"text": "y"}').timeout,
        # The axon reads headers with parse_headers_to_inputs: an absent timeout is None.
        "header_inputs_timeout": bt.Synapse.parse_headers_to_inputs(headers).get("timeout", "absent"),
    }


def main():
    sha = lambda s: hashlib.sha3_256(s.encode()).hexdigest()
    out = {
        "bittensor_version": bt.__version__,
        "unicode_version": unicodedata.unidata_version,
        # "hash": the body hash of a synapse whose only hashed field holds the value
        "values": {k: {"str": str(v), "hash": sha(sha(str(v)))} for k, v in values().items()},
        "synapses": {},
        "nonprintable": nonprintable_ranges(),
        "slow_defaults": slow_defaults(),
    }
    for key, syn in synapse_cases().items():
        fresh = syn.model_dump_json()
        body_hash = syn.body_hash
        headers = syn.to_headers()  # mutates total_size, as a dendrite's call does
        try:
            parsed, parse_error = type(syn).from_headers(dict(headers)).model_dump_json(), None
        except Exception as e:  # Python's axon answers 400 here
            parsed, parse_error = None, type(e).__name__
        out["synapses"][key] = {
            "class": type(syn).__name__,
            "json_fresh": fresh,
            "body_hash": body_hash,
            "headers": [[k, v] for k, v in headers.items()],
            "dendrite_body": json.dumps(syn.model_dump()),
            "json_after": syn.model_dump_json(),
            "from_headers_json": parsed,
            "from_headers_error": parse_error,
        }
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()

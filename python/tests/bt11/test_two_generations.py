"""One axon_rs miner, in this bittensor 11.3.0 process, serving both generations of validator
on one port at once: the legacy `Echo` (declared on `axon_rs.Synapse`) to the real 10.5.0 and
9.12.2 Dendrites, run from their own virtualenvs, and `POST` endpoints written in Python to
bittensor 11's `http_auth.sign` (sr25519 and ed25519 senders) and to Epistula clients.
Refusals are held to what bittensor 11's own `http_auth.verify` says of the same bytes."""

import asyncio
import json
import threading
import time
import types
import typing

import bittensor as bt
import pytest
from conftest import btauth, dendrite, epistula, free_port, key, message, send, verdict

import axon_rs

ALICE, BOB, EVE = key("//Alice"), key("//Bob"), key("//Eve")
BOB_ED = key("//Bob", "ed25519")
DAVE_ED = key("//Dave", "ed25519")


class Echo(axon_rs.Synapse):
    text: str
    n: int = 1
    out: typing.Optional[str] = None
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("text", "n")


def reverse(text, n):
    """The miner's logic, whichever generation asks."""
    return text[::-1] * n


def echo(synapse: Echo) -> Echo:
    synapse.out = reverse(synapse.text, synapse.n)
    return synapse


@pytest.fixture(scope="module")
def miner(tmp_path_factory):
    """Alice's miner: a bittensor 11 `Wallet` on disk, Bob's ed25519 key pinned."""
    wallet = bt.Wallet(name="miner", hotkey="default", path=str(tmp_path_factory.mktemp("wallets")))
    wallet.hotkey_file.set_keypair(ALICE, encrypt=False, overwrite=True)
    wallet.coldkeypub_file.set_keypair(key("//Ferdie"), encrypt=False, overwrite=True)
    config = types.SimpleNamespace(auth=types.SimpleNamespace(crypto=[f"{BOB_ED.ss58_address}=ed25519"]))
    port = free_port()
    axon = axon_rs.Axon(wallet=wallet, config=config, port=port, ip="127.0.0.1", external_ip="127.0.0.1")
    axon.attach(forward_fn=echo)

    @axon.endpoint("POST", "/v1/echo")
    def v1_echo(caller: axon_rs.Caller, body: bytes) -> dict:
        ask = json.loads(body)
        return {"out": reverse(ask["text"], ask.get("n", 1)), "hotkey": caller.hotkey_ss58,
                "scheme": caller.scheme, "crypto_type": caller.crypto_type, "ip": caller.ip,
                "receiver": caller.receiver_ss58, "nonce_ns": caller.nonce_ns}

    @axon.endpoint("POST", "/v1/async", auth="btauth")
    async def v1_async(caller, body):
        await asyncio.sleep(0)
        return body[::-1]

    def no_eve(caller):
        return caller.hotkey_ss58 == EVE.ss58_address, "Eve is not welcome"

    @axon.endpoint("POST", "/v1/guarded", crypto="sr25519", blacklist=no_eve)
    def guarded(caller, body):
        return 201, "made"

    @axon.endpoint("POST", "/v1/refuse")
    def refuse(caller, body):
        raise axon_rs.HandlerError(409, "busy with another request")

    @axon.endpoint("POST", "/v1/boom")
    def boom(caller, body):
        raise RuntimeError("the model is not loaded")

    axon.start()
    yield axon
    axon.stop()


def hotkey(miner):
    return miner.info().hotkey


def test_one_port_serves_both_generations_at_once(miner):
    port, me = miner.local_port, hotkey(miner)
    # The v10 validators, in their own processes, 64 calls each at once.
    v10, v9 = dendrite("10", port, me, 64), dendrite("9", port, me, 64)
    # bittensor 11 validators meanwhile: btauth/1 from sr25519 and (pinned) ed25519 senders,
    # and Epistula, 32 each, from threads.
    answers = {}

    def many(name, make):
        got = []
        for i in range(32):
            body = json.dumps({"text": f"{name}-{i}", "n": 2}).encode()
            got.append((i, send(port, "/v1/echo", make(body), body)))
        answers[name] = got

    signers = {
        "sr25519": lambda body: btauth(BOB, me, "/v1/echo", body),
        "ed25519": lambda body: btauth(BOB_ED, me, "/v1/echo", body),
        "epistula": lambda body: epistula(BOB, me, body),
    }
    threads = [threading.Thread(target=many, args=(name, make)) for name, make in signers.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    legacy = {"10.5.0": v10.result(), "9.12.2": v9.result()}

    for version, out in legacy.items():
        assert out["version"] == version
        assert [c[:2] for c in out["calls"]] == [[200, "Success"]] * 64, version
        assert [c[2] for c in out["calls"]] == [reverse(f"call-{i}", 2) for i in range(64)], version
    expected = {
        "sr25519": (BOB.ss58_address, "btauth/1", 1),
        "ed25519": (BOB_ED.ss58_address, "btauth/1", 0),
        "epistula": (BOB.ss58_address, "epistula", 1),
    }
    for name, got in answers.items():
        assert len(got) == 32, name
        for i, (status, content_type, body) in got:
            assert (status, content_type) == (200, "application/json"), (name, body)
            answer = json.loads(body)
            assert answer["out"] == reverse(f"{name}-{i}", 2)
            assert (answer["hotkey"], answer["scheme"], answer["crypto_type"]) == expected[name]
            assert (answer["ip"], answer["receiver"]) == ("127.0.0.1", me)
    # Every btauth/1 answer above is one bittensor 11's verify accepts (a fresh request).
    body = b'{"text": "x"}'
    headers = btauth(BOB, me, "/v1/echo", body)
    assert verdict(headers, body, "/v1/echo", me) == "ok"


def test_refusals_are_bittensor_11s(miner):
    port, me = miner.local_port, hotkey(miner)
    body = b'{"text": "hello"}'

    def both(headers, sent=body, path="/v1/echo"):
        """Our answer and bittensor's verdict on the same bytes."""
        status, _, answer = send(port, path, headers, sent)
        return status, message(answer), verdict(headers, sent, path, me)

    fresh = btauth(BOB, me, "/v1/echo", body)
    assert send(port, "/v1/echo", fresh, body)[0] == 200
    verdict(fresh, body, "/v1/echo", me)  # bittensor's store sees it once, as ours did
    cases = {
        "replay": both(fresh),
        "tampered": both(btauth(BOB, me, "/v1/echo", body), sent=b'{"text": "hellO"}'),
        "wrong receiver": both(btauth(BOB, EVE.ss58_address, "/v1/echo", body)),
        "stale": both(btauth(BOB, me, "/v1/echo", body, nonce_ns=time.time_ns() - 60 * 10**9)),
    }
    for case, (status, ours, python) in cases.items():
        assert status == 401, case
        assert ours == python, case
    assert cases["replay"][1] == "this nonce was already accepted from this hotkey"

    # Blacklisted before the signature is checked: 403 with the miner's reason.
    status, _, answer = send(port, "/v1/guarded", btauth(EVE, me, "/v1/guarded", body), body)
    assert (status, message(answer)) == (403, "Forbidden. Key is blacklisted: Eve is not welcome.")
    status, _, answer = send(port, "/v1/guarded", btauth(BOB, me, "/v1/guarded", body), body)
    assert (status, answer) == (201, b"made")


def test_crypto_types_are_pinned(miner):
    """btauth/1's pin rule (signed-requests.mdx): the server decides each sender's crypto
    type; a header claiming another is refused. No released verifier has the rule yet
    (bittensor 11.3.0's `verify` takes the header's word), so this follows the spec text."""
    port, me = miner.local_port, hotkey(miner)
    body = b'{"text": "x"}'
    # Dave's ed25519 key is pinned nowhere: the server expects sr25519 of him.
    status, _, answer = send(port, "/v1/echo", btauth(DAVE_ED, me, "/v1/echo", body), body)
    assert status == 401, answer
    assert verdict(btauth(DAVE_ED, me, "/v1/echo", body), body, "/v1/echo", me) == "ok"
    # Bob's pinned ed25519 key is accepted at /v1/echo, refused where only sr25519 is.
    assert send(port, "/v1/echo", btauth(BOB_ED, me, "/v1/echo", body), body)[0] == 200
    status, _, answer = send(port, "/v1/guarded", btauth(BOB_ED, me, "/v1/guarded", body), body)
    assert status == 401, answer


def test_handler_answers(miner):
    port, me = miner.local_port, hotkey(miner)
    body = b"abc"
    status, content_type, answer = send(port, "/v1/async", btauth(BOB, me, "/v1/async", body), body)
    assert (status, content_type, answer) == (200, "application/octet-stream", b"cba")
    # btauth/1 only: Epistula is refused, naming the scheme to use.
    status, _, answer = send(port, "/v1/async", epistula(BOB, me, body), body)
    assert status == 401
    assert "sign it with btauth/1" in message(answer)
    status, content_type, answer = send(port, "/v1/refuse", btauth(BOB, me, "/v1/refuse", body), body)
    assert (status, content_type, message(answer)) == (409, "application/json", "busy with another request")
    status, _, answer = send(port, "/v1/boom", btauth(BOB, me, "/v1/boom", body), body)
    assert status == 500
    assert message(answer).startswith("Internal Server Error #")
    assert b"not loaded" not in answer
    # No signature at all never reaches a handler.
    status, _, answer = send(port, "/v1/boom", {}, body)
    assert status == 401, answer


def test_declarations_are_checked_when_made(tmp_path):
    axon = axon_rs.Axon(wallet=types.SimpleNamespace(hotkey=ALICE), port=free_port(), ip="127.0.0.1")

    def handler(caller, body):
        return {}

    with pytest.raises(ValueError, match="`post` is not an HTTP method an endpoint may have: write `POST`"):
        axon.endpoint("post", "/v1/x")(handler)
    with pytest.raises(ValueError, match="the path starts with `/`"):
        axon.endpoint("POST", "v1/x")(handler)
    with pytest.raises(ValueError, match="auth="):
        axon.endpoint("POST", "/v1/x", auth="jwt")
    with pytest.raises(ValueError, match="Epistula is signed with sr25519 only"):
        axon.endpoint("POST", "/v1/x", auth="epistula", crypto="ed25519")(handler)
    with pytest.raises(TypeError, match="must take the caller and the body"):
        axon.endpoint("POST", "/v1/x")(lambda caller: {})

    async def async_blacklist(caller):
        return False, ""

    with pytest.raises(TypeError, match="must be a plain function"):
        axon.endpoint("POST", "/v1/x", blacklist=async_blacklist)
    axon.endpoint("POST", "/v1/x")(handler)
    with pytest.raises(ValueError, match="POST /v1/x is an endpoint already"):
        axon.endpoint("POST", "/v1/x")(handler)
    assert list(axon.endpoints) == ["POST /v1/x"]


def test_a_wallet_without_a_coldkeypub_serves(tmp_path):
    """A bittensor 11 `Wallet` holding only its hotkey (its `coldkeypub` raises
    FileNotFoundError): the axon starts, and its record shows no coldkey."""
    wallet = bt.Wallet(name="hot", hotkey="only", path=str(tmp_path))
    wallet.hotkey_file.set_keypair(key("//Dave"), encrypt=False, overwrite=True)
    with pytest.raises(FileNotFoundError):
        wallet.coldkeypub
    axon = axon_rs.Axon(wallet=wallet, port=free_port(), ip="127.0.0.1", external_ip="127.0.0.1")
    assert axon.info().coldkey == ""
    axon.start()
    try:
        info = axon.info()
        assert (info.hotkey, info.coldkey) == (key("//Dave").ss58_address, "")
    finally:
        axon.stop()

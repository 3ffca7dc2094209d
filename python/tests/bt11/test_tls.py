"""TLS from the Python package (bittensor 11.3.0): `axon_rs.Axon` with `--axon.tls_generate`
serves https and plain HTTP on its one port. bittensor 11 validators call it over TLS with
Python's `ssl`, trusting only the miner's self-signed certificate, and are judged as over plain
HTTP; the real 10.5.0 Dendrite, which speaks only `http://`, calls the same port meanwhile.

Nothing here reaches beyond loopback."""

import argparse
import http.client
import json
import os
import socket
import ssl
import stat
import types

import bittensor as bt
import pytest
from conftest import btauth, dendrite, free_port, key, message, send, verdict

import axon_rs
from test_two_generations import ALICE, BOB, Echo, echo, reverse


def https(port, cafile, path, headers, body):
    """One request over TLS, trusting only `cafile` (the certificate names "axon"): (status,
    body bytes, TLS version, whether the server's certificate is the file's)."""
    context = ssl.create_default_context(cafile=cafile)
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    tls = context.wrap_socket(raw, server_hostname="axon")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.sock = tls
    try:
        der = tls.getpeercert(binary_form=True)
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        r = conn.getresponse()
        with open(cafile) as f:
            ours = ssl.PEM_cert_to_DER_cert(f.read())
        return r.status, r.read(), tls.version(), der == ours
    finally:
        conn.close()


@pytest.fixture(scope="module")
def tls_miner(tmp_path_factory):
    """Alice's miner with `--axon.tls_generate true --axon.tls_dir DIR`, from a parser that
    `axon_rs.Axon.add_args` gave the flags, as a miner's command line does."""
    root = tmp_path_factory.mktemp("tls")
    wallet = bt.Wallet(name="miner", hotkey="default", path=str(root / "wallets"))
    wallet.hotkey_file.set_keypair(ALICE, encrypt=False, overwrite=True)
    wallet.coldkeypub_file.set_keypair(key("//Ferdie"), encrypt=False, overwrite=True)
    parser = argparse.ArgumentParser()
    axon_rs.Axon.add_args(parser)
    tls_dir = root / "keys"
    args = parser.parse_args(["--axon.tls_generate", "true", "--axon.tls_dir", str(tls_dir)])
    config = types.SimpleNamespace(axon=types.SimpleNamespace(
        tls_generate=getattr(args, "axon.tls_generate"), tls_dir=getattr(args, "axon.tls_dir")))
    axon = axon_rs.Axon(wallet=wallet, config=config, port=free_port(), ip="127.0.0.1",
                        external_ip="127.0.0.1")
    axon.attach(forward_fn=echo)

    @axon.endpoint("POST", "/v1/echo")
    def v1_echo(caller: axon_rs.Caller, body: bytes) -> dict:
        return {"out": reverse(json.loads(body)["text"], 1), "hotkey": caller.hotkey_ss58,
                "scheme": caller.scheme, "ip": caller.ip}

    axon.start()
    yield axon, tls_dir
    axon.stop()


def test_https_and_plain_http_share_the_port(tls_miner):
    axon, tls_dir = tls_miner
    port, me = axon.local_port, axon.info().hotkey
    cafile = str(tls_dir / "cert.pem")
    # Made on first start: the certificate, and a key only its owner reads.
    assert stat.S_IMODE(os.stat(tls_dir / "key.pem").st_mode) == 0o600

    # The 10.5.0 Dendrite over plain HTTP, 16 calls at once, while TLS callers come below.
    v10 = dendrite("10", port, me, 16)
    body = json.dumps({"text": "over tls"}).encode()
    headers = btauth(BOB, me, "/v1/echo", body)
    status, answer, version, same = https(port, cafile, "/v1/echo", headers, body)
    assert (status, version, same) == (200, "TLSv1.3", True), answer
    assert json.loads(answer) == {"out": reverse("over tls", 1), "hotkey": BOB.ss58_address,
                                  "scheme": "btauth/1", "ip": "127.0.0.1"}
    # The same request again, over TLS: a replay, refused with bittensor 11's own message
    # (its verifier has seen the request once, as ours had).
    verdict(headers, body, "/v1/echo", me)
    status, answer, _, _ = https(port, cafile, "/v1/echo", headers, body)
    assert status == 401
    assert message(answer) == verdict(headers, body, "/v1/echo", me)
    assert message(answer) == "this nonce was already accepted from this hotkey"
    # A tampered body over TLS: refused as over plain HTTP.
    tampered = json.dumps({"text": "over tlS"}).encode()
    fresh = btauth(BOB, me, "/v1/echo", body)
    status, answer, _, _ = https(port, cafile, "/v1/echo", fresh, tampered)
    assert status == 401
    assert message(answer) == verdict(fresh, tampered, "/v1/echo", me)
    # btauth/1 over plain HTTP, on the same port.
    plain = json.dumps({"text": "plain"}).encode()
    status, _, answer = send(port, "/v1/echo", btauth(BOB, me, "/v1/echo", plain), plain)
    assert (status, json.loads(answer)["out"]) == (200, reverse("plain", 1))

    out = v10.result()
    assert out["version"] == "10.5.0"
    assert [c[:2] for c in out["calls"]] == [[200, "Success"]] * 16
    assert [c[2] for c in out["calls"]] == [reverse(f"call-{i}", 2) for i in range(16)]


# The DER prefix of an ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32-byte key: this
# test finds the key in the certificate file by it, independently of the Rust parser.
ED25519_SPKI = bytes.fromhex("302a300506032b6570032100")


def test_a_python_caller_pins_the_published_key(tls_miner):
    """A Python validator pins a miner's key as the chain holds it: it connects without a
    CA, and before sending anything compares `axon_rs.tls_key` of the certificate the server
    presented (whose key signed the handshake) with that key. Here the key is read from the
    certificate file; tests/chain.rs reads it from the chain with `Metagraph.tls_key`."""
    axon, tls_dir = tls_miner
    port, me = axon.local_port, axon.info().hotkey
    with open(tls_dir / "cert.pem") as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    at = der.index(ED25519_SPKI) + len(ED25519_SPKI)
    published = b"\x01" + der[at:at + 32]  # algorithm 1, ed25519

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    tls = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30))
    try:
        presented = axon_rs.tls_key(tls.getpeercert(binary_form=True))
        assert presented == published
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.sock = tls
        body = json.dumps({"text": "pinned"}).encode()
        conn.request("POST", "/v1/echo", body=body, headers={
            "Content-Type": "application/json", **btauth(BOB, me, "/v1/echo", body)})
        r = conn.getresponse()
        assert (r.status, json.loads(r.read())["out"]) == (200, reverse("pinned", 1))
    finally:
        tls.close()
    # Bytes that are not a certificate give None.
    assert axon_rs.tls_key(b"not a certificate") is None


def test_a_client_trusting_another_certificate_is_refused(tls_miner, tmp_path):
    """A client that trusts some other certificate (a CA's, or another miner's) fails the
    handshake: the miner's certificate is only trusted where it is pinned."""
    axon, _ = tls_miner
    other = tmp_path / "other"
    stranger = axon_rs.Axon(wallet=_wallet(tmp_path), port=free_port(), ip="127.0.0.1",
                            external_ip="127.0.0.1",
                            config=types.SimpleNamespace(axon=types.SimpleNamespace(
                                tls_generate=True, tls_dir=str(other))))
    stranger.start()
    stranger.stop()
    body = b'{"text": "x"}'
    with pytest.raises(ssl.SSLCertVerificationError):
        https(axon.local_port, str(other / "cert.pem"), "/v1/echo",
              btauth(BOB, axon.info().hotkey, "/v1/echo", body), body)


def test_tls_settings_are_checked_at_start(tmp_path):
    """A certificate without its key is refused when the miner starts, naming both flags."""
    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate")
    config = types.SimpleNamespace(axon=types.SimpleNamespace(tls_cert=str(cert)))
    axon = axon_rs.Axon(wallet=_wallet(tmp_path), port=free_port(), ip="127.0.0.1",
                        external_ip="127.0.0.1", config=config)
    with pytest.raises(RuntimeError, match="--axon.tls_cert and --axon.tls_key go together"):
        axon.start()


def _wallet(tmp_path):
    wallet = bt.Wallet(name="other", hotkey="default", path=str(tmp_path / "wallets"))
    wallet.hotkey_file.set_keypair(key("//Dave"), encrypt=False, overwrite=True)
    return wallet

"""The package as pip installed it: its version is the workspace's, and its extension is
an abi3 module (one wheel for CPython 3.9 and newer)."""

import importlib.metadata
import pathlib
import re

import axon_rs
import axon_rs._native

WORKSPACE = pathlib.Path(__file__).resolve().parents[3]


def workspace_version():
    text = (WORKSPACE / "Cargo.toml").read_text()
    section = text.split("[workspace.package]", 1)[1]
    return re.search(r'^version = "([^"]+)"', section, re.M).group(1)


def test_the_version_is_the_workspaces_and_the_wheels():
    assert axon_rs.__version__ == workspace_version()
    assert importlib.metadata.version("axon-rs") == axon_rs.__version__


def test_the_extension_is_abi3():
    assert pathlib.Path(axon_rs._native.__file__).name == "_native.abi3.so"


def test_the_stubs_and_the_typed_marker_are_installed():
    package = pathlib.Path(axon_rs.__file__).parent
    assert (package / "_native.pyi").is_file()
    assert (package / "py.typed").is_file()


def test_synapses_are_served_without_bittensor(tmp_path):
    """Without bittensor installed: a class on `axon_rs.Synapse` is attached, an endpoint
    declared, the axon started on a hotkey keyfile, and a request without a signature
    refused (401) before any handler; `info()` is the package's own `AxonInfo`."""
    import json
    import typing
    import urllib.error
    import urllib.request

    try:
        import bittensor  # noqa: F401

        raise AssertionError("this suite runs where bittensor is not installed")
    except ImportError:
        pass

    class Echo(axon_rs.Synapse):
        text: str
        required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("text",)

    called = []

    def forward(synapse: Echo) -> Echo:
        called.append(synapse)
        return synapse

    hotkey = tmp_path / "hotkey"
    hotkey.write_text(json.dumps({"secretSeed": "0x" + "07" * 32}))
    wallet = type("Wallet", (), {"hotkey_file": type("File", (), {"path": str(hotkey)})()})()
    axon = axon_rs.Axon(wallet=wallet, port=0, ip="127.0.0.1", external_ip="127.0.0.1")
    axon.attach(forward_fn=forward)

    @axon.endpoint("POST", "/v1/echo")
    def echo(caller, body):
        called.append(body)
        return body

    axon.start()
    try:
        info = axon.info()
        assert isinstance(info, axon_rs.AxonInfo)
        assert (info.ip, info.port) == ("127.0.0.1", axon.local_port)
        for path, body in (("/Echo", Echo(text="a").model_dump_json()), ("/v1/echo", "{}")):
            request = urllib.request.Request(f"http://127.0.0.1:{axon.local_port}{path}",
                                             data=body.encode(), headers={"Content-Type": "application/json"})
            try:
                urllib.request.urlopen(request, timeout=30)
                raise AssertionError(f"{path}: an unsigned request was served")
            except urllib.error.HTTPError as e:
                assert e.code in (400, 401), (path, e.code, e.read())
    finally:
        axon.stop()
    assert called == []
    assert Echo(text="a").to_headers()["computed_body_hash"] == Echo(text="a").body_hash

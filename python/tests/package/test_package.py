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

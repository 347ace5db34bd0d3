"""What the installed distribution promises: one version, typing files, a stub that matches
the compiled module, and an ``import grokprop`` that stays light."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
from pathlib import Path

import pytest

import grokprop as gp

PACKAGE_DIR = Path(gp.__file__).parent


def test_version_is_single_sourced() -> None:
    # the build reads _version.py (scikit-build-core's regex provider): metadata == module
    assert importlib.metadata.version("grokprop") == gp.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]\d+|rc\d+)?(\.dev\d+)?", gp.__version__)


def test_typing_files_are_installed() -> None:
    assert (PACKAGE_DIR / "py.typed").is_file()
    assert (PACKAGE_DIR / "_core.pyi").is_file()


# ------------------------------------------------------------------ _core.pyi vs _core
#
# pybind11 functions carry no __text_signature__; their docstring's first line is the
# signature, with types spelled by pybind11 (which spelling depends on its version). So
# names, parameter names and order are compared exactly and each type by its kind.

KINDS = {
    "ndarray": "array",
    "NDArray": "array",
    "Sequence": "sequence",
    "list": "list",
    "str": "str",
    "dict": "dict",
    "tuple": "tuple",
    "bool": "bool",
    "float": "float",
    "SupportsFloat": "float",
    "int": "int",
    "SupportsInt": "int",
    "None": "None",
    "object": "object",
    "dtype": "dtype",
    "TrainSpec": "spec",
    "SweepSpec": "spec",
    "Activation": "activation",
    "_SpecActivation": "activation",  # the stub imports specs.Activation under this name
}

Signature = tuple[tuple[tuple[str, str], ...], str]


def _kind(annotation: str, aliases: dict[str, str]) -> str:
    """``typing.SupportsFloat | typing.SupportsIndex`` -> ``float``; ``list[X]`` -> ``list``."""
    first = annotation.split("|")[0].strip()
    first = aliases.get(first, first).split("|")[0].strip()  # an alias may be a union too
    base = first.split("[")[0].rsplit(".", 1)[-1]
    return KINDS.get(base, f"unknown type {annotation!r}")


def _split_top_level(params: str) -> list[str]:
    """Split ``a: x, b: dict[str, int]`` at the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(params):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(params[start:i])
            start = i + 1
    return [p.strip() for p in [*parts, params[start:]] if p.strip()]


def _stub_signatures(path: Path) -> dict[str, Signature]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {
        node.target.id: ast.unparse(node.value)
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value
    }
    signatures = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            params = tuple(
                (arg.arg, _kind(ast.unparse(arg.annotation), aliases))
                for arg in node.args.args
                if arg.annotation is not None
            )
            assert len(params) == len(node.args.args), f"{node.name}: unannotated parameter"
            assert node.returns is not None, f"{node.name}: no return annotation"
            signatures[node.name] = (params, _kind(ast.unparse(node.returns), aliases))
    return signatures


def _runtime_signatures(module: object) -> dict[str, Signature]:
    signatures = {}
    for name, function in vars(module).items():
        if name.startswith("_") or not callable(function) or isinstance(function, type):
            continue
        first_line = (function.__doc__ or "").splitlines()[0]
        match = re.fullmatch(rf"{name}\((.*)\) -> (.+)", first_line)
        assert match, f"_core.{name}: no pybind11 signature in its docstring: {first_line!r}"
        params = tuple(
            (param.split(":")[0].strip(), _kind(param.split(":", 1)[1].split("=")[0], {}))
            for param in _split_top_level(match[1])
        )
        signatures[name] = (params, _kind(match[2], {}))
    return signatures


@pytest.mark.backends("cpp")
def test_core_stub_matches_the_compiled_module() -> None:
    core = importlib.import_module("grokprop._core")
    stub = _stub_signatures(PACKAGE_DIR / "_core.pyi")
    runtime = _runtime_signatures(core)
    assert sorted(stub) == sorted(runtime), "functions differ between _core.pyi and _core"
    for name, signature in runtime.items():
        assert stub[name] == signature, f"_core.{name}: stub {stub[name]} != module {signature}"
    assert all("unknown type" not in str(s) for s in [*stub.values(), *runtime.values()])


def test_signature_parsing_sees_a_difference() -> None:
    # the comparison above is only as good as its parsing: it must tell these apart
    assert _kind("typing.SupportsFloat | typing.SupportsIndex", {}) == "float"
    assert _kind("collections.abc.Sequence[numpy.ndarray]", {}) == "sequence"
    assert _kind("_FloatArray", {"_FloatArray": "NDArray[np.floating]"}) == "array"
    assert _kind("int", {}) != _kind("float", {})
    assert _split_top_level("a: dict[str, int], b: bool = True") == [
        "a: dict[str, int]",
        "b: bool = True",
    ]

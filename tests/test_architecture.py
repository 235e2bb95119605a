"""The package's shape: layers that import one way, short modules, a documented public API, thin notebooks."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import adalib
from adalib.util.paths import REPO_ROOT

PACKAGE = REPO_ROOT / "adalib"
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
# each layer and the layers it must never import (data -> forecast -> backtest; execution over binance)
FORBIDDEN = {
    "adalib.util": (
        "adalib.data",
        "adalib.forecast",
        "adalib.backtest",
        "adalib.execution",
        "adalib.binance",
    ),
    "adalib.data": ("adalib.forecast", "adalib.backtest", "adalib.execution", "adalib.report"),
    "adalib.forecast": ("adalib.backtest", "adalib.execution", "adalib.binance", "adalib.report"),
    "adalib.backtest": ("adalib.execution", "adalib.binance", "adalib.report"),
    "adalib.binance": ("adalib.forecast", "adalib.backtest", "adalib.execution", "adalib.report"),
    "adalib.execution": ("adalib.report",),
}
MAX_LINES = 410  # "about 400": one concept per file, readable top to bottom
# what a notebook may import besides adalib's top level: display and plotting
NOTEBOOK_LIBRARIES = {"IPython", "altair", "matplotlib", "polars", "numpy", "json", "datetime", "pathlib"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str) -> set[str]:
    """Every module an ``import`` or ``from ... import`` statement names, at any depth."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_layers_import_one_way(path: Path) -> None:
    name = module_name(path)
    layer = next((lay for lay in FORBIDDEN if name == lay or name.startswith(lay + ".")), None)
    if layer is None:
        return
    wrong = sorted(
        m
        for m in imported_modules(path.read_text())
        for banned in FORBIDDEN[layer]
        if m == banned or m.startswith(banned + ".")
    )
    assert not wrong, f"{name} (layer {layer}) imports {wrong}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_modules_stay_short(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO_ROOT)} has {lines} lines (at most {MAX_LINES})"


PUBLIC_CALLABLES = [n for n in adalib.__all__ if n != "__version__" and callable(getattr(adalib, n))]


@pytest.mark.parametrize("name", PUBLIC_CALLABLES)
def test_every_public_name_is_documented_with_an_example(name: str) -> None:
    """Functions and classes (constants such as the schemas are documented in their modules)."""
    doc = getattr(adalib, name).__doc__ or ""
    assert ">>>" in doc, f"adalib.{name} has no usage example in its docstring"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_use_only_the_public_api(path: Path) -> None:
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    modules = imported_modules(code)
    deep = sorted(m for m in modules if m.startswith("adalib."))
    other = sorted(m for m in modules if m != "adalib" and m.split(".")[0] not in NOTEBOOK_LIBRARIES)
    assert not deep, f"{path.name} imports adalib internals {deep}: use the top-level names"
    assert not other, f"{path.name} imports {other}: notebooks only display what adalib computes"
    tree = ast.parse(code)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "adalib":
            names.update(alias.name for alias in node.names)
    missing = sorted(n for n in names if n not in adalib.__all__)
    assert not missing, f"{path.name} imports {missing}, which adalib does not export"


def test_import_adalib_is_light() -> None:
    """``import adalib`` and a backtest import neither torch nor scipy: names load lazily."""
    probe = (
        "import sys, adalib, adalib.backtest; "
        "print(sorted(m for m in ('torch', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert out.stdout.strip() == "[]"


def test_version_is_written_once() -> None:
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and 'attr = "adalib.__version__"' in pyproject
    assert not re.search(r"^version = \"", pyproject, re.M)

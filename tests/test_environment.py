"""environment.yml (conda) and pyproject.toml (pip) declare the same dependencies."""

from __future__ import annotations

import re
import tomllib

from adalib.util.paths import REPO_ROOT


def pyproject_requirements() -> set[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return {*project["dependencies"], *project["optional-dependencies"]["test"]}


def conda_requirements() -> tuple[str, set[str]]:
    text = (REPO_ROOT / "environment.yml").read_text()
    python = re.search(r"^\s+- python=(\S+)$", text, re.M)
    pip = re.findall(r"^\s{6}- (\S+)$", text, re.M)
    return (python.group(1) if python else ""), {r for r in pip if not r.startswith("--")}


def test_same_requirements_in_both_files() -> None:
    python, conda = conda_requirements()
    assert conda == pyproject_requirements()
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={python}"


def test_torch_is_pinned_to_the_cpu_build() -> None:
    assert "torch==2.13.0" in pyproject_requirements()

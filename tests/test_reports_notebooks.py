"""The committed notebooks carry results, not the machine that ran them."""

from __future__ import annotations

import nbformat
import pytest

from adalib.pipeline import NOTEBOOK_DIR, NOTEBOOKS, volatile_metadata


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_has_no_volatile_metadata_or_machine_path(name: str) -> None:
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    found = volatile_metadata(nb)
    assert not found, f"{name}: re-run it with adalib.pipeline.run_notebook (which cleans it): {found[:5]}"
    # what nbval needs to re-execute it stays
    assert nb.metadata.kernelspec.name == "python3" and nb.metadata.language_info.name == "python"
    assert not [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]

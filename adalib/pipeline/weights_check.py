"""Did a run reproduce the committed ``model_weights.pth``? Bytes first, then tensor by tensor.

``torch.save`` names its records after the file's base name, so two weights files with the
same name and the same values are byte-identical; when the bytes differ, ``compare_weights``
says which entries differ and by how much (a difference of a few 1e-16 is floating-point
summation order on another CPU or BLAS, not a different model).

>>> import io, torch
>>> def saved(bias: float) -> bytes:
...     buffer = io.BytesIO()
...     state = {"linear.bias": torch.tensor([bias], dtype=torch.float64)}
...     torch.save({"state_dict": state, "lags": 2}, buffer)
...     return buffer.getvalue()
>>> compare_weights(saved(0.5), saved(0.5))
[]
>>> compare_weights(saved(0.5), saved(0.5 + 2**-52))
['state_dict.linear.bias: 1 of 1 values differ, max |diff| 2.2e-16 (relative 4.4e-16)']
"""

from __future__ import annotations

import io
from typing import Any


def _load(data: bytes) -> dict[str, Any]:
    import torch

    loaded = torch.load(io.BytesIO(data), weights_only=True)
    if not isinstance(loaded, dict):
        raise ValueError(f"weights file holds a {type(loaded).__name__}, not a dict")
    return loaded


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}


def _describe(name: str, old: Any, new: Any) -> str | None:
    import torch

    if isinstance(old, torch.Tensor) and isinstance(new, torch.Tensor):
        if old.shape != new.shape or old.dtype != new.dtype:
            return f"{name}: shape/dtype {tuple(old.shape)} {old.dtype} -> {tuple(new.shape)} {new.dtype}"
        if torch.equal(old, new):
            return None
        diff = (new.double() - old.double()).abs()
        scale = old.double().abs().max().item() or 1.0
        return (
            f"{name}: {int((diff > 0).sum())} of {diff.numel()} values differ, "
            f"max |diff| {diff.max().item():.2g} (relative {diff.max().item() / scale:.2g})"
        )
    return None if old == new else f"{name}: {old!r} -> {new!r}"


def compare_weights(committed: bytes, produced: bytes) -> list[str]:
    """How ``produced`` differs from ``committed`` (two ``torch.save`` files): [] if byte-identical.

    Byte differences with equal values are reported as such (archive layout, not numbers).
    """
    if committed == produced:
        return []
    old, new = _flatten(_load(committed)), _flatten(_load(produced))
    found = [f"{key}: only in the committed file" for key in sorted(old.keys() - new.keys())]
    found += [f"{key}: only in the new file" for key in sorted(new.keys() - old.keys())]
    for key in sorted(old.keys() & new.keys()):
        line = _describe(key, old[key], new[key])
        if line:
            found.append(line)
    return found or ["the bytes differ but every entry is equal (torch.save archive layout, not values)"]

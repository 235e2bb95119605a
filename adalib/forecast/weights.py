"""The weights file of contract section 2: ``torch.save`` of the fitted AR(p) and what it was trained on.

>>> import pathlib, tempfile
>>> f = Forecaster((0.1, -0.05), 0.0, 2, 0.03, "ADAUSDT", "12h", "2020-01-01T00:00:00Z",
...                "2021-01-01T00:00:00Z")
>>> path = pathlib.Path(tempfile.mkdtemp()) / "w.pth"
>>> save_weights(path, f)
>>> load_weights(path, lags=2) == f
True
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch

from adalib.forecast.model import INTERVAL, TARGET, WEIGHTS_KEYS, Forecaster
from adalib.util.atomic import write_atomic
from adalib.util.timefmt import parse_utc


class WeightsError(ValueError):
    """A weights file that cannot be used: the message names the file, the field and the problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


def weights_payload(forecaster: Forecaster) -> dict[str, object]:
    """The dict ``save_weights`` writes (contract section 2)."""
    model = forecaster.model()
    return {
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "lags": int(forecaster.lags),
        "symbol": forecaster.symbol,
        "interval": forecaster.interval,
        "resid_std": float(forecaster.resid_std),
        "train_start": forecaster.train_start,
        "train_end": forecaster.train_end,
        "target": TARGET,
    }


def weights_bytes(forecaster: Forecaster) -> bytes:
    """The bytes of the weights file: ``torch.save`` of ``weights_payload`` into a buffer.

    They depend only on the forecaster (a buffer, not a path, fixes the archive's inner folder
    name), so re-running a fit gives an identical file.

    >>> f = Forecaster((0.1,), 0.0, 1, 0.03, "ADAUSDT", "12h", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z")
    >>> weights_bytes(f) == weights_bytes(f), weights_bytes(f)[:2]
    (True, b'PK')
    """
    buffer = io.BytesIO()
    torch.save(weights_payload(forecaster), buffer)
    return buffer.getvalue()


def save_weights(path: str | Path, forecaster: Forecaster) -> None:
    """Write ``forecaster`` with ``torch.save`` (loads with ``weights_only=True``), atomically.

    >>> import pathlib, tempfile
    >>> f = Forecaster((0.1,), 0.0, 1, 0.03, "ADAUSDT", "12h", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "weights.pth"
    >>> save_weights(path, f)
    >>> path.read_bytes() == weights_bytes(f)
    True
    """
    data = weights_bytes(forecaster)
    write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))


def _tensor(path: Path, state: dict, key: str, shape: tuple[int, ...]) -> np.ndarray:
    value = state.get(key)
    if not isinstance(value, torch.Tensor):
        raise WeightsError(path, f"field 'state_dict.{key}' is missing or not a tensor")
    if tuple(value.shape) != shape:
        raise WeightsError(path, f"field 'state_dict.{key}' has shape {tuple(value.shape)}, expected {shape}")
    array = value.detach().double().numpy().reshape(-1)
    if not np.isfinite(array).all():
        raise WeightsError(path, f"field 'state_dict.{key}' holds NaN or inf")
    return array


def _string(path: Path, payload: dict, key: str, *, instant: bool = False) -> str:
    value = payload[key]
    if not isinstance(value, str) or not value:
        raise WeightsError(path, f"field '{key}' must be a non-empty string, got {value!r}")
    if instant:
        try:
            parse_utc(value)
        except ValueError:
            raise WeightsError(path, f"field '{key}' is not an ISO 8601 instant: {value!r}") from None
    return value


def load_weights(path: str | Path, *, lags: int | None = None, symbol: str | None = None) -> Forecaster:
    """Read a weights file written by ``save_weights``; check it before anything uses it.

    ``lags`` / ``symbol``, when given, must match the file. Raises ``WeightsError``
    (a ``ValueError``) naming the file and the field for a missing file, a corrupt
    payload, missing keys, wrong shapes, or a lag, symbol, interval or target mismatch.

    >>> import pathlib, tempfile
    >>> f = Forecaster((0.1,), 0.0, 1, 0.03, "ADAUSDT", "12h", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "weights.pth"
    >>> save_weights(path, f)
    >>> load_weights(path, symbol="ADAUSDT") == f
    True
    >>> load_weights(path, lags=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    adalib.forecast.weights.WeightsError: .../weights.pth: field 'lags' is 1, expected 2
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(path, "weights file not found (run notebooks/ADA_ML_model.ipynb to write it)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad archive: report them as one
        raise WeightsError(path, f"not a readable torch weights file ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict):
        raise WeightsError(path, f"payload must be a dict, got {type(payload).__name__}")
    missing = [k for k in WEIGHTS_KEYS if k not in payload]
    if missing:
        raise WeightsError(path, f"missing field(s) {missing}")
    n_lags = payload["lags"]
    if not isinstance(n_lags, int) or isinstance(n_lags, bool) or n_lags < 1:
        raise WeightsError(path, f"field 'lags' must be a positive integer, got {n_lags!r}")
    if lags is not None and n_lags != lags:
        raise WeightsError(path, f"field 'lags' is {n_lags}, expected {lags}")
    for key, expected in (("interval", INTERVAL), ("target", TARGET)):
        if payload[key] != expected:
            raise WeightsError(path, f"field '{key}' is {payload[key]!r}, expected {expected!r}")
    file_symbol = _string(path, payload, "symbol")
    if symbol is not None and file_symbol != symbol:
        raise WeightsError(path, f"field 'symbol' is {file_symbol!r}, expected {symbol!r}")
    state = payload["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(path, f"field 'state_dict' must be a dict, got {type(state).__name__}")
    coef = _tensor(path, state, "linear.weight", (1, n_lags))
    bias = _tensor(path, state, "linear.bias", (1,))
    resid_std = payload["resid_std"]
    if isinstance(resid_std, bool) or not isinstance(resid_std, int | float) or not 0 < resid_std < math.inf:
        raise WeightsError(path, f"field 'resid_std' must be a positive finite number, got {resid_std!r}")
    return Forecaster(
        coef=tuple(float(a) for a in coef),
        intercept=float(bias[0]),
        lags=n_lags,
        resid_std=float(resid_std),
        symbol=file_symbol,
        interval=INTERVAL,
        train_start=_string(path, payload, "train_start", instant=True),
        train_end=_string(path, payload, "train_end", instant=True),
    )

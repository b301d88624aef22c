"""Tables of numbers: CSV reading with a parsed-data cache, and CANDLE's preprocessing options.

``read_csv`` keeps a ``.npy`` copy of each parsed table in ``<folder>/.parsed/``, keyed by the
CSV's sha256 and the reading options, so the second load of a large file is a plain binary
read instead of a parse (see benchmarks/perf/data_cache.py for NT3's size).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from candle_core.atomic import write_bytes_atomic
from candle_core.errors import CandleError

SCALINGS = ("none", "std", "minmax", "maxabs")


def _file_digest(path: Path) -> str:
    """The file's sha256, remembered beside the cache with its size and modification time, so
    that an unchanged file is not hashed again (as git's index does)."""
    stat = path.stat()
    stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
    record = path.parent / ".parsed" / f"{path.name}.sha256"
    if record.exists():
        saved_stamp, _, digest = record.read_text().partition(" ")
        if saved_stamp == stamp:
            return digest.strip()
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    record.parent.mkdir(exist_ok=True)
    write_bytes_atomic(record, f"{stamp} {digest}\n".encode())
    return digest


def read_csv(
    path: str | Path,
    header: bool = False,
    usecols: Sequence[int] | None = None,
    drop_cols: Sequence[int] | None = None,
    dtype: str = "float32",
) -> np.ndarray:
    """A numeric CSV as a 2-D array (selected or dropped columns by index), cached once parsed."""
    path = Path(path)
    options = json.dumps(
        {"header": header, "usecols": list(usecols or []), "drop": list(drop_cols or []), "dtype": dtype},
        sort_keys=True,
    )
    key = hashlib.sha256((_file_digest(path) + options).encode()).hexdigest()[:24]
    cached = path.parent / ".parsed" / f"{path.name}.{key}.npy"
    if cached.exists():
        return np.load(cached, allow_pickle=False)
    import pandas

    try:
        frame = pandas.read_csv(
            path,
            header=0 if header else None,
            usecols=list(usecols) if usecols else None,
            dtype=dtype,
            engine="c",
            low_memory=False,
        )
    except (ValueError, pandas.errors.ParserError) as exc:
        raise CandleError(f"{path}: not a numeric CSV table: {exc}") from None
    if drop_cols:
        frame = frame.drop(columns=frame.columns[list(drop_cols)])
    table = frame.to_numpy(dtype=dtype)
    cached.parent.mkdir(exist_ok=True)
    buffer = io.BytesIO()
    np.save(buffer, table, allow_pickle=False)
    write_bytes_atomic(cached, buffer.getvalue())
    return table


class Scaler:
    """CANDLE's scalings, fitted on one matrix and applied to others (features in columns)."""

    def __init__(self, method: str | None) -> None:
        method = (method or "none").lower()
        if method not in SCALINGS:
            raise CandleError(f"scaling '{method}' is not one of {', '.join(SCALINGS)}")
        self.method = method
        self.shift: np.ndarray | float = 0.0
        self.scale: np.ndarray | float = 1.0

    def fit(self, matrix: np.ndarray) -> Scaler:
        if self.method == "std":
            self.shift, self.scale = matrix.mean(axis=0), matrix.std(axis=0)
        elif self.method == "minmax":
            low, high = matrix.min(axis=0), matrix.max(axis=0)
            self.shift, self.scale = low, high - low
        elif self.method == "maxabs":
            self.scale = np.abs(matrix).max(axis=0)
        if isinstance(self.scale, np.ndarray):
            self.scale = np.where(self.scale == 0, 1.0, self.scale).astype(matrix.dtype)
        return self

    def transform(self, matrix: np.ndarray) -> np.ndarray:
        if self.method == "none":
            return matrix
        return ((matrix - self.shift) / self.scale).astype(matrix.dtype, copy=False)


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise CandleError(f"labels run from {labels.min()} to {labels.max()}, outside 0..{classes - 1}; check classes")
    return np.eye(classes, dtype=np.float32)[labels]


def feature_subsample(count: int | None, n_features: int, seed: int) -> np.ndarray | None:
    """Sorted indices of ``count`` features drawn at random (None: keep all)."""
    if not count or count >= n_features:
        return None
    return np.sort(np.random.default_rng(seed).choice(n_features, size=count, replace=False))


def split_validation(x: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    """Hold out ``fraction`` of the rows, drawn at random, as validation data."""
    if not 0 < fraction < 1:
        raise CandleError(f"val_split must lie between 0 and 1, got {fraction}")
    order = np.random.default_rng(seed).permutation(len(x))
    cut = len(x) - int(round(len(x) * fraction))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def shuffle_rows(seed: int, *arrays: np.ndarray) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(len(arrays[0]))
    return [a[order] for a in arrays]

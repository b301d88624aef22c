"""The data set a benchmark hands to the training loop."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass
class Dataset:
    """Training and validation arrays (and optional test arrays), float32, samples first."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    val_groups: np.ndarray | None = None  # a group number per validation row (e.g. cancer type), for plots
    group_names: list[str] | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def resampled(self, seed: int) -> Dataset:
        """The data set with its training rows replaced by a bootstrap resample (n rows drawn with
        replacement, seeded); validation and test rows unchanged. ``meta["bootstrap"]`` says which."""
        rows = np.random.default_rng(seed).integers(0, len(self.x_train), len(self.x_train))
        drawn = {
            "seed": seed,
            "distinct_rows": int(len(np.unique(rows))),
            "rows_sha256": hashlib.sha256(rows.tobytes()).hexdigest(),
        }
        return replace(
            self, x_train=self.x_train[rows], y_train=self.y_train[rows], meta={**self.meta, "bootstrap": drawn}
        )

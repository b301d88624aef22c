"""candle_lib's quantile normalization and cross-validation partitions (``candle_core.splits``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from candle_core.splits import cross_validation_folds


def quantile_normalization(data: Any) -> Any:
    """Give every row (sample) the same distribution of values: the mean of the sorted rows.
    Missing values are filled by draws from their row for the ranking, and stay missing."""
    frame = data if isinstance(data, pd.DataFrame) else None
    values = (frame.to_numpy(dtype=float) if frame is not None else np.asarray(data, dtype=float)).copy()
    missing = np.isnan(values)
    for row in np.flatnonzero(missing.any(axis=1)):
        present = values[row, ~missing[row]]
        values[row, missing[row]] = np.random.choice(present, size=int(missing[row].sum()), replace=True)
    reference = np.sort(values, axis=1).mean(axis=0)
    ranks = np.apply_along_axis(rankdata, 1, values, method="ordinal").astype(np.int64) - 1
    normalized = reference[ranks]
    normalized[missing] = np.nan
    if frame is not None:
        return pd.DataFrame(normalized, index=frame.index, columns=frame.columns)
    return normalized


def generate_cross_validation_partition(
    group_label: Sequence[Any],
    n_folds: int = 5,
    n_repeats: int = 1,
    portions: Sequence[int] | None = None,
    random_seed: int | None = None,
) -> list[list[list[int]]]:
    """Cross-validation trials: ``n_folds`` x ``n_repeats`` of them, each a list of sets (by
    default [test, train]: ``portions`` [1, n_folds - 1]) of sorted sample indices. Samples of
    one group never straddle sets. Trial f of a repeat starts its first set at fold f."""
    portions = [1, n_folds - 1] if portions is None else [int(p) for p in portions]
    if sum(portions) != n_folds:
        raise ValueError(f"portions {portions} must add up to n_folds ({n_folds})")
    trials = []
    for folds in cross_validation_folds(group_label, n_folds, n_repeats, seed=random_seed):
        for first in range(n_folds):
            sets, start = [], first
            for size in portions:
                members = np.concatenate([folds[(start + k) % n_folds] for k in range(size)])
                sets.append(sorted(int(i) for i in members))
                start += size
            trials.append(sets)
    return trials

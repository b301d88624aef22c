"""candle_lib's feature selection: by missing values, by variation, decorrelated features."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import median_abs_deviation

from candle_core.plots import pyplot, save_figure


def _matrix(data: Any) -> np.ndarray:
    if isinstance(data, pd.DataFrame):
        return data.to_numpy(dtype=float)
    if isinstance(data, np.ndarray):
        return data.astype(float, copy=False)
    raise TypeError(f"data must be a numpy array or a pandas DataFrame, got {type(data).__name__}")


def select_features_by_missing_values(data: Any, threshold: float = 0.1) -> np.ndarray:
    """Sorted indices of the columns whose share of missing values is below ``threshold``."""
    matrix = _matrix(data)
    return np.flatnonzero(np.isnan(matrix).mean(axis=0) < threshold)


def select_features_by_variation(
    data: Any,
    variation_measure: str = "var",
    threshold: float | None = None,
    portion: float | None = None,
    draw_histogram: bool = False,
    bins: int = 100,
    log: bool = False,
) -> np.ndarray:
    """Sorted indices of the columns of large variation (``var``, ``std`` or ``mad``, missing values
    ignored): above ``threshold``, or the top ``portion`` of the columns. Neither: an empty array.
    ``draw_histogram`` saves ``feature_variation.png`` in the working folder."""
    if threshold is not None and portion is not None:
        raise ValueError("give threshold or portion, not both")
    matrix = _matrix(data)
    with np.errstate(all="ignore"):
        if variation_measure == "std":
            spread = np.nanstd(matrix, axis=0)
        elif variation_measure == "mad":
            spread = median_abs_deviation(matrix, axis=0, nan_policy="omit")
        elif variation_measure == "var":
            spread = np.nanvar(matrix, axis=0)
        else:
            raise ValueError(f"variation_measure must be 'var', 'std' or 'mad', got {variation_measure!r}")
    known = np.flatnonzero(~np.isnan(spread))
    if draw_histogram and len(known):
        plt = pyplot()
        figure, axis = plt.subplots()
        axis.hist(spread[known], bins=int(min(bins, len(known))), log=log)
        axis.set_xlabel(variation_measure)
        save_figure(figure, __import__("pathlib").Path("feature_variation.png"))
    if threshold is None and portion is None:
        return np.array([], dtype=np.int64)
    if threshold is not None:
        return np.sort(known[spread[known] > threshold])
    count = int(min(portion * matrix.shape[1], len(known)))
    return np.sort(known[np.argsort(-spread[known], kind="stable")[:count]])


def select_decorrelated_features(
    data: Any, method: str = "pearson", threshold: float | None = None, random_seed: int | None = None
) -> np.ndarray:
    """Sorted indices of columns whose mutual absolute correlation (``pearson``, ``kendall`` or
    ``spearman``, on rows present in both) stays below ``threshold``; without a threshold, only
    exact duplicates are removed. Columns with fewer than two values or no spread are left out.
    Earlier columns win (in a random order with ``random_seed``)."""
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(_matrix(data))
    values = frame.to_numpy(dtype=float)
    with np.errstate(all="ignore"):
        usable = np.flatnonzero((np.sum(~np.isnan(values), axis=0) > 1) & (np.nanstd(values, axis=0) > 0))
    order = usable if random_seed is None else usable[np.random.default_rng(random_seed).permutation(len(usable))]
    chosen = values[:, order]
    if threshold is not None:
        similar = np.abs(pd.DataFrame(chosen).corr(method=method).to_numpy()) >= threshold
    else:
        missing = np.isnan(chosen)
        filled = np.where(missing, 0.0, chosen)
        similar = np.array(
            [
                [
                    np.array_equal(missing[:, i], missing[:, j]) and np.array_equal(filled[:, i], filled[:, j])
                    for j in range(len(order))
                ]
                for i in range(len(order))
            ]
        )
    removed = np.zeros(len(order), dtype=bool)
    for index in range(len(order)):
        if not removed[index]:
            later = np.arange(index + 1, len(order))
            removed[later[similar[index, later]]] = True
    return np.sort(order[~removed])

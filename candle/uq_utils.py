"""candle_lib's UQ helpers: index partitions (``candle_core.splits``), statistics of inference
tables, and the empirical calibration of predicted spread against observed error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator
from scipy.signal import savgol_filter
from scipy.stats import pearsonr

from candle_core.splits import uq_partition


def generate_index_distribution(
    numTrain: int, numTest: int, numValidation: int, params: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Train, validation and test indices from ``uq_*_fr``, ``uq_*_bks`` or ``uq_*_vec`` (see
    ``candle_core.splits``); the shuffles draw from numpy's global generator, as candle_lib's."""
    seed = int(np.random.randint(0, 2**31 - 1))
    return tuple(uq_partition(numTrain, numTest, numValidation, params, seed))


def _report(y_true: np.ndarray, y_pred: np.ndarray) -> None:
    """Print the fit statistics candle_lib prints."""
    error = y_true - y_pred
    total = np.sum((y_true - y_true.mean()) ** 2)
    print(f"MSE: {np.mean(error**2):.6g}  MSE_STD: {np.std(error**2):.6g}  MAE: {np.mean(np.abs(error)):.6g}")
    print(f"R2: {1 - np.sum(error**2) / total if total else float('nan'):.6g}")
    if len(y_true) > 1 and np.std(y_pred) > 0:
        correlation, p_value = pearsonr(y_true, y_pred)
        print(f"Pearson CC: {correlation:f}, p-value: {p_value:e}")


def compute_statistics_homoscedastic_summary(
    df_data: pd.DataFrame, col_true: int = 0, col_pred: int = 6, col_std_pred: int = 7
) -> tuple:
    """From a summary table (truth, mean prediction and its spread in columns): Ytrue, Ypred_mean,
    yerror, sigma, Ypred_std, pred_name."""
    y_true = df_data.iloc[:, col_true].to_numpy(dtype=float)
    y_pred = df_data.iloc[:, col_pred].to_numpy(dtype=float)
    spread = df_data.iloc[:, col_std_pred].to_numpy(dtype=float)
    _report(y_true, y_pred)
    return y_true, y_pred, y_true - y_pred, spread, spread, df_data.columns[col_true]


def compute_statistics_homoscedastic(df_data: pd.DataFrame, col_true: int = 4, col_pred_start: int = 6) -> tuple:
    """From a table of every inference realization (columns from ``col_pred_start`` on): Ytrue,
    Ypred_mean, yerror, sigma (the realizations' std), Ypred_std, pred_name."""
    y_true = df_data.iloc[:, col_true].to_numpy(dtype=float)
    draws = df_data.iloc[:, col_pred_start:].to_numpy(dtype=float)
    y_pred, spread = draws.mean(axis=1), draws.std(axis=1)
    _report(y_true, y_pred)
    return y_true, y_pred, y_true - y_pred, spread, spread, df_data.columns[col_true]


def compute_statistics_heteroscedastic(
    df_data: pd.DataFrame, col_true: int = 4, col_pred_start: int = 6, col_std_pred_start: int = 7
) -> tuple:
    """From realizations interleaving a prediction and its log variance: Ytrue, Ypred_mean, yerror,
    sigma (sqrt(exp(mean log variance))), Ypred_std (the predictions' std), pred_name."""
    y_true = df_data.iloc[:, col_true].to_numpy(dtype=float)
    draws = df_data.iloc[:, col_pred_start::2].to_numpy(dtype=float)
    log_variance = df_data.iloc[:, col_std_pred_start::2].to_numpy(dtype=float)
    y_pred = draws.mean(axis=1)
    _report(y_true, y_pred)
    sigma = np.sqrt(np.exp(log_variance.mean(axis=1)))
    return y_true, y_pred, y_true - y_pred, sigma, draws.std(axis=1), df_data.columns[col_true]


def compute_statistics_quantile(
    df_data: pd.DataFrame, sigma_divisor: float = 2.56, col_true: int = 4, col_pred_start: int = 6
) -> tuple:
    """From realizations of (median, low, high) quantile triples: Ytrue, Ypred (median), yerror,
    sigma (inter-quantile range / ``sigma_divisor``; 2.56 turns the 1st-9th decile range into a
    normal std), Ypred_std, pred_name, Ypred_Lp_mean, Ypred_Hp_mean."""
    y_true = df_data.iloc[:, col_true].to_numpy(dtype=float)
    median = df_data.iloc[:, col_pred_start::3].to_numpy(dtype=float)
    low = df_data.iloc[:, col_pred_start + 1 :: 3].to_numpy(dtype=float).mean(axis=1)
    high = df_data.iloc[:, col_pred_start + 2 :: 3].to_numpy(dtype=float).mean(axis=1)
    y_pred = median.mean(axis=1)
    _report(y_true, y_pred)
    sigma = (high - low) / sigma_divisor
    return y_true, y_pred, y_true - y_pred, sigma, median.std(axis=1), df_data.columns[col_true], low, high


def split_data_for_empirical_calibration(
    Ytrue: np.ndarray, Ypred: np.ndarray, sigma: np.ndarray, cal_split: float = 0.8
) -> tuple:
    """A random permutation of the rows, and sigma, predictions and truth split into the first
    ``cal_split`` share (calibration) and the rest (test): index_perm_total, pSigma_cal,
    pSigma_test, pPred_cal, pPred_test, true_cal, true_test."""
    if not 0 < cal_split < 1:
        raise ValueError(f"cal_split must lie in (0, 1), got {cal_split}")
    order = np.random.permutation(len(sigma))
    cut = int(len(sigma) * cal_split)
    parts = [np.asarray(a)[order] for a in (sigma, Ypred, Ytrue)]
    return order, parts[0][:cut], parts[0][cut:], parts[1][:cut], parts[1][cut:], parts[2][:cut], parts[2][cut:]


def _smoothed_spline(sigma: np.ndarray, error: np.ndarray, window: int) -> PchipInterpolator:
    """|error| as a monotone-preserving spline of sigma, after a Savitzky-Golay smoothing."""
    order = np.argsort(sigma, kind="stable")
    x, y = sigma[order], error[order]
    x, first = np.unique(x, return_index=True)
    y = np.array([chunk.mean() for chunk in np.split(y, first[1:])])
    window = min(window, len(x) - (1 - len(x) % 2))
    if window >= 5:
        y = savgol_filter(y, window, 1)
    return PchipInterpolator(x, y, extrapolate=True)


def compute_empirical_calibration_interpolation(
    pSigma_cal: np.ndarray, pPred_cal: np.ndarray, true_cal: np.ndarray, cv: int = 10
) -> tuple[PchipInterpolator, PchipInterpolator]:
    """The mapping from predicted spread to absolute error, as two cubic Hermite splines: the
    first after a smoothing whose window is chosen by ``cv``-fold cross-validation (smallest mean
    absolute error on the held-out fold), the second re-fitted on 100 points of the first."""
    sigma = np.asarray(pSigma_cal, dtype=float)
    error = np.abs(np.asarray(true_cal, dtype=float) - np.asarray(pPred_cal, dtype=float))
    if len(sigma) < 2 * cv:
        raise ValueError(f"{len(sigma)} calibration points are too few for {cv}-fold cross-validation")
    folds = np.array_split(np.random.permutation(len(sigma)), cv)
    best, best_error = None, np.inf
    for window in (5, 11, 21, 41, 81, 161):
        scores = []
        for held_out in folds:
            kept = np.setdiff1d(np.arange(len(sigma)), held_out)
            spline = _smoothed_spline(sigma[kept], error[kept], window)
            scores.append(np.mean(np.abs(spline(sigma[held_out]) - error[held_out])))
        if np.mean(scores) < best_error:
            best, best_error = window, float(np.mean(scores))
    first = _smoothed_spline(sigma, error, best)
    grid = np.linspace(sigma.min(), sigma.max(), 100)
    second = _smoothed_spline(grid, first(grid), 5)
    return first, second

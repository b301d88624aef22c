"""NT3's data: CANDLE's normal/tumor RNA-seq tables, or a synthetic set of the same shape.

Real data: ``nt_train2.csv`` and ``nt_test2.csv`` from ``data_url`` (no header; column 0 the
label, 0 normal / 1 tumor; then 60,483 expression values), cached in ``data_dir``. As in
CANDLE: features scaled by MaxAbs fitted on train and test together, labels one-hot, samples
reshaped to (features, 1), and the test set serves as validation set.

Synthetic data (``--data synthetic``): 1,120 + 280 samples of log-normal expression in which 10%
of the genes shift by 0.5-1.0 (log scale) between the classes, drawn from a fixed seed, so that
every run and every trial of a search sees the same data. ``feature_subsample`` makes it
narrower (real data: that many genes drawn at random).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from candle_core.data.dataset import Dataset
from candle_core.data.fetch import fetch
from candle_core.data.tabular import Scaler, feature_subsample, one_hot, read_csv
from candle_core.errors import CandleError

TRAIN_ROWS, TEST_ROWS, FEATURES = 1120, 280, 60483
SYNTHETIC_SEED = 60483
UNSUPPORTED_NOISE = ("noise_correlated", "noise_cluster", "noise_column")


def width(params: Mapping[str, Any]) -> int:
    return int(params.get("feature_subsample") or FEATURES)


def synthetic_tables(n_features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test): labels 0/1, expression values, deterministic."""
    rng = np.random.default_rng(SYNTHETIC_SEED)
    gene_mean = rng.normal(2.0, 1.0, n_features).astype(np.float32)
    informative = rng.choice(n_features, size=max(8, n_features // 10), replace=False)
    effect = np.zeros(n_features, dtype=np.float32)
    effect[informative] = rng.choice([-1.0, 1.0], informative.size) * rng.uniform(0.5, 1.0, informative.size)

    def draw(rows: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.permutation(np.arange(rows) % 2).astype(np.float32)
        log_expression = rng.standard_normal((rows, n_features), dtype=np.float32) * np.float32(0.5)
        log_expression += gene_mean + labels[:, None] * effect
        return np.exp(log_expression, out=log_expression), labels

    x_train, y_train = draw(TRAIN_ROWS)
    x_test, y_test = draw(TEST_ROWS)
    return x_train, y_train, x_test, y_test


def real_tables(params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    base = str(params["data_url"]).rstrip("/") + "/"
    data_dir = Path(params["data_dir"])
    train = read_csv(fetch(base + params["train_data"], data_dir))
    test = read_csv(fetch(base + params["test_data"], data_dir))
    if train.shape[1] != test.shape[1]:
        raise CandleError(f"{params['train_data']} has {train.shape[1]} columns, {params['test_data']} {test.shape[1]}")
    x_train, x_test = train[:, 1:], test[:, 1:]
    columns = feature_subsample(params.get("feature_subsample"), x_train.shape[1], int(params["rng_seed"]))
    if columns is not None:
        x_train, x_test = x_train[:, columns], x_test[:, columns]
    return x_train, train[:, 0], x_test, test[:, 0]


def load(params: Mapping[str, Any]) -> Dataset:
    for name in UNSUPPORTED_NOISE:
        if params.get(name):
            raise CandleError(f"{name} is not supported by candle's NT3; set it to False")
    if params.get("data") == "synthetic":
        x_train, y_train, x_test, y_test = synthetic_tables(width(params))
    else:
        x_train, y_train, x_test, y_test = real_tables(params)
    rng = np.random.default_rng(int(params["rng_seed"]))
    if params.get("add_noise"):  # flip a fraction label_noise of the training labels
        flip = rng.random(len(y_train)) < float(params.get("label_noise") or 0.0)
        y_train = np.where(flip, 1 - y_train, y_train)
    if params.get("noise_gaussian"):
        x_train = x_train + rng.normal(0, float(params.get("std_dev") or 0.0), x_train.shape).astype(np.float32)
    scaler = Scaler(params.get("scaling") or "maxabs").fit(np.concatenate([x_train, x_test]))
    classes = int(params["classes"])
    x_train, x_test = scaler.transform(x_train)[..., None], scaler.transform(x_test)[..., None]
    return Dataset(
        x_train,
        one_hot(y_train, classes),
        x_test,
        one_hot(y_test, classes),
        meta={"source": params.get("data"), "features": x_train.shape[1]},
    )

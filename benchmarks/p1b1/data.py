"""P1B1's data: CANDLE's GDC RNA-seq tables, or a synthetic set of the same shape.

Real data: ``P1B1.dev.train.csv`` and ``P1B1.dev.test.csv`` from ``data_url`` (a header; columns
``case_id``, ``cancer_type``, then 60,483 log-transformed FPKM-UQ values), cached in
``data_dir``. As in CANDLE's ``load_csv_data``: ``case_id`` dropped, ``cancer_type`` one-hot (the
condition of a cvae), ``feature_subsample`` genes drawn at random, features scaled by
``scaling`` fitted on training and test rows together, ``val_split`` of the training rows
(seeded) held out for validation, the test file kept as test set.

Synthetic data (``--data synthetic``): 3,000 + 1,000 profiles of 60,483 genes (``feature_subsample``
narrows them) from ``SYNTHETIC_TYPES`` cancer types: each profile is its type's centre in a
3-dimensional latent space plus noise, mapped to the genes by fixed loadings, with gene noise on
top, so that an autoencoder with a small latent space can reconstruct much, but not all, of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from candle_core.data.dataset import Dataset
from candle_core.data.fetch import fetch
from candle_core.data.tabular import Scaler, feature_subsample, one_hot, split_validation
from candle_core.errors import CandleError

TRAIN_ROWS, TEST_ROWS, FEATURES = 3000, 1000, 60483
SYNTHETIC_TYPES = 10
SYNTHETIC_SEED = 1717
LATENT_FACTORS = 3


def width(params: Mapping[str, Any]) -> int:
    return int(params.get("feature_subsample") or FEATURES)


def synthetic_tables(n_features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, types_train, x_test, types_test), deterministic."""
    rng = np.random.default_rng(SYNTHETIC_SEED)
    centres = rng.normal(0.0, 1.0, (SYNTHETIC_TYPES, LATENT_FACTORS)).astype(np.float32)
    loadings = rng.normal(0.0, 1.0, (LATENT_FACTORS, n_features)).astype(np.float32)
    gene_mean = rng.normal(3.0, 1.0, n_features).astype(np.float32)

    def draw(rows: int) -> tuple[np.ndarray, np.ndarray]:
        types = rng.integers(0, SYNTHETIC_TYPES, rows)
        latent = centres[types] + rng.normal(0.0, 0.3, (rows, LATENT_FACTORS)).astype(np.float32)
        x = rng.standard_normal((rows, n_features), dtype=np.float32) * np.float32(0.3)
        x += gene_mean
        x += latent @ loadings
        return np.maximum(x, 0, out=x), types

    x_train, types_train = draw(TRAIN_ROWS)
    x_test, types_test = draw(TEST_ROWS)
    return x_train, types_train, x_test, types_test


def _read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(expression, cancer type names) of one of CANDLE's P1B1 tables."""
    import pandas

    try:
        frame = pandas.read_csv(path, engine="c", low_memory=False)
    except (ValueError, pandas.errors.ParserError) as exc:
        raise CandleError(f"{path}: not a P1B1 table: {exc}") from None
    missing = {"case_id", "cancer_type"} - set(frame.columns)
    if missing:
        raise CandleError(f"{path}: no column {', '.join(sorted(missing))}; is this a P1B1 table?")
    types = frame.pop("cancer_type").astype(str).to_numpy()
    return frame.drop(columns="case_id").to_numpy(dtype=np.float32), types


def real_tables(params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    base = str(params["data_url"]).rstrip("/") + "/"
    data_dir = Path(params["data_dir"])
    x_train, names_train = _read(fetch(base + params["train_data"], data_dir))
    x_test, names_test = _read(fetch(base + params["test_data"], data_dir))
    if x_train.shape[1] != x_test.shape[1]:
        raise CandleError(
            f"{params['train_data']} has {x_train.shape[1]} genes, {params['test_data']} {x_test.shape[1]}"
        )
    columns = feature_subsample(params.get("feature_subsample"), x_train.shape[1], int(params["rng_seed"]))
    if columns is not None:
        x_train, x_test = x_train[:, columns], x_test[:, columns]
    type_names = sorted(set(names_train) | set(names_test))
    index = {name: i for i, name in enumerate(type_names)}
    types_train = np.array([index[n] for n in names_train])
    types_test = np.array([index[n] for n in names_test])
    return x_train, types_train, x_test, types_test, type_names


def load(params: Mapping[str, Any]) -> Dataset:
    """Inputs are the expression profiles (with the one-hot cancer type appended for a cvae);
    targets are the profiles themselves."""
    if params.get("use_landmark_genes"):
        raise CandleError("use_landmark_genes is not supported by candle's P1B1; use feature_subsample")
    if params.get("data") == "synthetic":
        x_train, types_train, x_test, types_test = synthetic_tables(width(params))
        type_names = [f"type{i}" for i in range(SYNTHETIC_TYPES)]
    else:
        x_train, types_train, x_test, types_test, type_names = real_tables(params)
    if params.get("model") == "cvae" and x_train.shape[1] != width(params):  # the condition starts after the genes
        raise CandleError(f"the data has {x_train.shape[1]} genes, not {width(params)}; set feature_subsample")
    scaler = Scaler(params.get("scaling") or "minmax").fit(np.concatenate([x_train, x_test]))
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    conditions = len(type_names)
    cond_train, cond_test = one_hot(types_train, conditions), one_hot(types_test, conditions)
    x_train, cond_train, x_val, cond_val = split_validation(
        x_train, cond_train, float(params.get("val_split") or 0.1), int(params["rng_seed"])
    )

    def inputs(x: np.ndarray, cond: np.ndarray) -> np.ndarray:
        return np.concatenate([x, cond], axis=1) if params.get("model") == "cvae" else x

    return Dataset(
        inputs(x_train, cond_train),
        x_train,
        inputs(x_val, cond_val),
        x_val,
        inputs(x_test, cond_test),
        x_test,
        meta={"source": params.get("data"), "features": x_train.shape[1], "cancer_types": type_names},
        val_groups=cond_val.argmax(axis=1),
        group_names=type_names,
    )

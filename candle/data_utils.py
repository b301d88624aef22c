"""candle_lib's CSV loaders (pandas), with candle_core's scalings and one-hot encoding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from candle_core.data.tabular import Scaler, one_hot

DEFAULT_SEED = 7102


def to_categorical(y: Any, num_classes: int | None = None) -> np.ndarray:
    """Integer classes to one-hot rows (float32), classes along the last axis."""
    labels = np.asarray(y, dtype=np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return one_hot(labels, int(num_classes) if num_classes else int(labels.max()) + 1)


def _scaled(matrix: np.ndarray, scaling: str | None) -> np.ndarray:
    return Scaler(scaling).fit(matrix).transform(matrix)


def _columns(frame: pd.DataFrame, chosen: Sequence[Any] | None) -> list:
    """Column names from names or positions."""
    if chosen is None:
        return []
    return [frame.columns[c] if isinstance(c, int | np.integer) and c not in frame.columns else c for c in chosen]


def load_csv_data(
    train_path: str,
    test_path: str | None = None,
    sep: str = ",",
    nrows: int | None = None,
    x_cols: Sequence[Any] | None = None,
    y_cols: Sequence[Any] | None = None,
    drop_cols: Sequence[Any] | None = None,
    onehot_cols: Sequence[Any] | None = None,
    n_cols: int | None = None,
    random_cols: bool = False,
    shuffle: bool = False,
    scaling: str | None = None,
    dtype: Any = None,
    validation_split: float | None = None,
    return_dataframe: bool = True,
    return_header: bool = False,
    seed: int = DEFAULT_SEED,
):
    """Train (and test) tables with headers, split into features and labels as CANDLE does.

    Returns, in order and only when they exist: x_train, y_train (``y_cols``), x_val, y_val
    (``validation_split``: the last rows of the training table), x_test, y_test (``test_path``);
    then, with ``return_header``, the feature and label column names. ``onehot_cols`` become
    ``name:value`` columns; ``n_cols`` keeps that many feature columns (the first ones, or drawn
    with ``random_cols``; ``x_cols`` and ``onehot_cols`` are always kept); scaling is fitted on
    train and test features together."""
    header = pd.read_csv(train_path, sep=sep, nrows=0)
    y_names = _columns(header, y_cols)
    dropped = set(_columns(header, drop_cols)) | set(y_names)
    candidates = [c for c in header.columns if c not in dropped]
    reserved = _columns(header, onehot_cols) + _columns(header, x_cols)
    if n_cols and n_cols < len(candidates):
        rng = np.random.default_rng(seed)
        picked = sorted(rng.choice(len(candidates), n_cols, replace=False)) if random_cols else range(n_cols)
        room = max(n_cols - len(reserved), 0)
        unreserved = [c for c in (candidates[i] for i in picked) if c not in reserved][:room]
        wanted = set(reserved) | set(unreserved)
        x_names = [c for c in candidates if c in wanted]
    elif x_cols is not None:
        x_names = _columns(header, x_cols)
    else:
        x_names = candidates
    usecols = y_names + x_names
    train = pd.read_csv(train_path, sep=sep, nrows=nrows, usecols=usecols)
    test = pd.read_csv(test_path, sep=sep, nrows=nrows, usecols=usecols) if test_path else train.iloc[0:0]
    if shuffle:
        train = train.sample(frac=1, random_state=seed)
        if test_path:
            test = test.sample(frac=1, random_state=seed)
    both = pd.concat([train, test])
    labels, features = both[y_names], both[x_names]
    for column in _columns(header, onehot_cols):
        if column in y_names:
            dummies = pd.get_dummies(labels[column], prefix=column, prefix_sep=":", dtype=np.float32)
            labels = pd.concat([dummies, labels.drop(columns=column)], axis=1)
        else:
            dummies = pd.get_dummies(features[column], prefix=column, prefix_sep=":", dtype=np.float32)
            features = pd.concat([dummies, features.drop(columns=column)], axis=1)
    if scaling is not None:
        matrix = _scaled(features.to_numpy(dtype=dtype or np.float64), scaling)
        features = pd.DataFrame(matrix, index=features.index, columns=features.columns)
    elif dtype is not None:
        features = features.astype(dtype)
    n_train = len(train)
    parts = {"x_train": features[:n_train], "y_train": labels[:n_train]}
    parts |= {"x_test": features[n_train:], "y_test": labels[n_train:]}
    if validation_split and 0 < validation_split < 1:
        n_val = int(n_train * validation_split)
        parts["x_val"], parts["y_val"] = parts["x_train"][-n_val:], parts["y_train"][-n_val:]
        parts["x_train"], parts["y_train"] = parts["x_train"][:-n_val], parts["y_train"][:-n_val]
    order = ["x_train", "y_train", "x_val", "y_val", "x_test", "y_test"]
    wanted_parts = [
        name
        for name in order
        if name in parts and (y_cols is not None or not name.startswith("y")) and (test_path or "test" not in name)
    ]
    result = [parts[name] if return_dataframe else parts[name].to_numpy() for name in wanted_parts]
    if return_header:
        result += [features.columns.tolist(), labels.columns.tolist()]
    return tuple(result) if len(result) > 1 else result


def load_Xy_data_noheader(
    train_file: str,
    test_file: str,
    classes: int,
    usecols: Sequence[int] | None = None,
    scaling: str | None = None,
    dtype: Any = np.float32,
):
    """Headerless tables, labels in column 0 (one-hot to ``classes``), features scaled on train and
    test together: returns X_train, Y_train, X_test, Y_test (NT3's layout)."""
    train = pd.read_csv(train_file, header=None, usecols=usecols).to_numpy().astype(dtype)
    test = pd.read_csv(test_file, header=None, usecols=usecols).to_numpy().astype(dtype)
    features = _scaled(np.concatenate([train[:, 1:], test[:, 1:]]), scaling)
    return (
        features[: len(train)],
        to_categorical(train[:, 0], classes),
        features[len(train) :],
        to_categorical(test[:, 0], classes),
    )


def load_Xy_one_hot_data2(
    train_file: str,
    test_file: str,
    class_col: Any = None,
    drop_cols: Sequence[Any] | None = None,
    n_cols: int | None = None,
    shuffle: bool = False,
    scaling: str | None = None,
    validation_split: float = 0.1,
    dtype: Any = np.float32,
    seed: int = DEFAULT_SEED,
):
    """Tables with headers; ``class_col`` (name or position) one-hot encoded over train and test,
    ``drop_cols`` dropped, the first ``n_cols`` other columns kept; the last ``validation_split``
    of the training rows held out. Returns (X_train, y_train), (X_val, y_val), (X_test, y_test)."""
    if class_col is None:
        raise ValueError("load_Xy_one_hot_data2 needs class_col, the label column")
    header = pd.read_csv(train_file, nrows=0)
    label = _columns(header, [class_col])[0]
    dropped = set(_columns(header, drop_cols)) | {label}
    features = [c for c in header.columns if c not in dropped]
    if n_cols:
        features = features[:n_cols]
    train = pd.read_csv(train_file, usecols=[label, *features])
    test = pd.read_csv(test_file, usecols=[label, *features])
    if shuffle:
        train, test = train.sample(frac=1, random_state=seed), test.sample(frac=1, random_state=seed)
    both = pd.concat([train, test])
    y = pd.get_dummies(both[label], dtype=np.float32).to_numpy()
    x = _scaled(both[features].to_numpy().astype(dtype), scaling)
    n_train = len(train)
    n_val = int(n_train * validation_split)
    cut = n_train - n_val
    return (x[:cut], y[:cut]), (x[cut:n_train], y[cut:n_train]), (x[n_train:], y[n_train:])

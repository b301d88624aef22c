"""P3B1's data: CANDLE's pathology-report tasks, or a synthetic set of the same shape.

Real data: ``P3B1_data.tar.gz`` from ``data_url``, unpacked in ``data_dir``; per task one
feature file (400 comma-separated numbers a row) and one label file (a class number a row)
for training (``train_features``, ``train_truths``) and for validation (``valid_features``,
``valid_truths``), ';'-separated in task order. Every task has its own reports, so the rows of
all tasks are stacked: a row has a one-hot target for its own task and zeros for the others
(which add nothing to those heads' losses and are left out of their metrics).

Synthetic data (``--data synthetic``): CANDLE's row counts per task (3,900/99, 600/86, 1,200/68)
of 400 non-negative features; each class of each task raises its own random 2.5% of the
features (by 0.4, on noise of mean 0.5), so the tasks are learnable but not at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from candle_core.data.dataset import Dataset
from candle_core.data.fetch import fetch
from candle_core.data.tabular import one_hot, read_csv
from candle_core.errors import CandleError

FEATURES = 400
SYNTHETIC_ROWS = ((3900, 99), (600, 86), (1200, 68))
SYNTHETIC_SEED = 3131


def task_names(params: Mapping[str, Any]) -> list[str]:
    """Head names from ``feature_names`` ('Primary site' -> primary_site)."""
    names = params.get("feature_names") or []
    if isinstance(names, str):
        names = names.split(":")
    names = [n for part in names for n in str(part).split(":")]
    return ["_".join(name.lower().split()) for name in names]


def synthetic_task(task: int, classes: int, rows: int, rng: np.random.Generator, shared: np.ndarray):
    informative = [rng.choice(FEATURES, FEATURES // 40, replace=False) for _ in range(classes)]
    labels = rng.integers(0, classes, rows)
    x = rng.gamma(1.0, 0.5, (rows, FEATURES)).astype(np.float32) * shared
    for c in range(classes):
        x[np.ix_(labels == c, informative[c])] += np.float32(0.4)
    return x, labels


def synthetic_tables(classes: Sequence[int]):
    rng = np.random.default_rng(SYNTHETIC_SEED)
    shared = rng.uniform(0.5, 1.5, FEATURES).astype(np.float32)  # per-feature scale, common to all tasks
    tables = []
    for task, (n_classes, (train_rows, valid_rows)) in enumerate(zip(classes, SYNTHETIC_ROWS, strict=False)):
        x, y = synthetic_task(task, n_classes, train_rows + valid_rows, rng, shared)
        tables.append((x[:train_rows], y[:train_rows], x[train_rows:], y[train_rows:]))
    return tables


def _file_list(params: Mapping[str, Any], key: str, tasks: int) -> list[str]:
    files = [f.strip() for f in str(params[key]).split(";") if f.strip()]
    if len(files) != tasks:
        raise CandleError(f"{key} lists {len(files)} files for {tasks} tasks (feature_names); separate them with ';'")
    return files


def _locate(root: Path, relative: str, key: str) -> Path:
    for candidate in (root / relative, *root.glob(f"*/{relative}")):
        if candidate.is_file():
            return candidate
    raise CandleError(f"{key}: {relative} is not in {root}; check the file names")


FILE_KEYS = ("train_features", "train_truths", "valid_features", "valid_truths")


def real_tables(params: Mapping[str, Any], tasks: int):
    url = str(params["data_url"]).rstrip("/") + "/" + params["train_data"]
    root = fetch(url, Path(params["data_dir"]), unpack=True)
    lists = {key: _file_list(params, key, tasks) for key in FILE_KEYS}
    tables = []
    for task in range(tasks):
        arrays = [read_csv(_locate(root, lists[key][task], key)) for key in FILE_KEYS]
        tables.append((arrays[0], arrays[1][:, 0], arrays[2], arrays[3][:, 0]))
    return tables


def stack_tasks(tables, classes: Sequence[int], names: Sequence[str]) -> tuple[np.ndarray, ...]:
    """Rows of every task stacked; targets one-hot in the task's own columns, zero elsewhere."""
    offsets = np.cumsum([0, *classes])
    parts: dict[str, list] = {"x_train": [], "y_train": [], "x_val": [], "y_val": []}
    for task, (x_train, y_train, x_val, y_val) in enumerate(tables):
        for split, x, y in (("train", x_train, y_train), ("val", x_val, y_val)):
            if y.size and y.max() >= classes[task]:
                raise CandleError(
                    f"task {names[task]} has label {int(y.max())}, but classes gives it {classes[task]} classes"
                )
            target = np.zeros((len(y), offsets[-1]), dtype=np.float32)
            target[:, offsets[task] : offsets[task + 1]] = one_hot(y, classes[task])
            parts[f"x_{split}"].append(x.astype(np.float32))
            parts[f"y_{split}"].append(target)
    return tuple(np.concatenate(parts[key]) for key in ("x_train", "y_train", "x_val", "y_val"))


def load(params: Mapping[str, Any]) -> Dataset:
    names, classes = task_names(params), [int(c) for c in params["classes"]]
    if len(names) != len(classes):
        raise CandleError(f"feature_names names {len(names)} tasks but classes gives {len(classes)} class counts")
    if params.get("data") == "synthetic":
        if len(classes) != len(SYNTHETIC_ROWS):
            raise CandleError(f"the synthetic P3B1 data has {len(SYNTHETIC_ROWS)} tasks; classes gives {len(classes)}")
        tables = synthetic_tables(classes)
    else:
        tables = real_tables(params, len(classes))
    x_train, y_train, x_val, y_val = stack_tasks(tables, classes, names)
    rows = {name: int(len(table[0])) for name, table in zip(names, tables, strict=True)}
    return Dataset(x_train, y_train, x_val, y_val, meta={"source": params.get("data"), "training_rows": rows})

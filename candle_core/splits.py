"""Index splits of a data set: cross-validation folds and CANDLE's UQ partitions.

Both ``candle run`` (keywords ``n_fold`` and ``uq_*``) and the ``import candle`` compatibility
functions (``generate_cross_validation_partition``, ``generate_index_distribution``) use these.

UQ partitions, as CANDLE defines them, re-distribute the rows among train, validation and test:

* fractions ``uq_train_fr``, ``uq_valid_fr``, ``uq_test_fr`` (adding up to 1), rows shuffled;
* block counts ``uq_train_bks``, ``uq_valid_bks``, ``uq_test_bks``: rows shuffled, then cut into
  equal blocks;
* block lists ``uq_train_vec``, ``uq_valid_vec``, ``uq_test_vec``: the rows in their order cut
  into equal blocks (the last one takes the rest), each part taking the blocks it names.

A zero test share keeps the data set's own test rows out of the re-distribution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np

from candle_core.data.dataset import Dataset
from candle_core.errors import CandleError

FRACTIONS = ("uq_train_fr", "uq_valid_fr", "uq_test_fr")
BLOCK_COUNTS = ("uq_train_bks", "uq_valid_bks", "uq_test_bks")
BLOCK_LISTS = ("uq_train_vec", "uq_valid_vec", "uq_test_vec")
UQ_KEYWORDS = FRACTIONS + BLOCK_COUNTS + BLOCK_LISTS


class Partition(NamedTuple):
    """Row indices of each part (None where a part gets no rows)."""

    train: np.ndarray
    validation: np.ndarray | None
    test: np.ndarray | None


def _given(params: Mapping[str, Any], names: Sequence[str]) -> bool:
    return all(params.get(name) is not None for name in names)


def uq_mode(params: Mapping[str, Any]) -> str | None:
    """Which UQ specification the parameters give (fraction, blocks, block list), or None.

    A partly given triple is an error naming what is missing."""
    for mode, names in (("fraction", FRACTIONS), ("blocks", BLOCK_COUNTS), ("block list", BLOCK_LISTS)):
        present = [name for name in names if params.get(name) is not None]
        if present and len(present) < 3:
            missing = [name for name in names if name not in present]
            raise CandleError(f"UQ split by {mode}: {', '.join(present)} given without {', '.join(missing)}")
        if present:
            return mode
    return None


def uq_partition(
    n_train: int, n_test: int, n_validation: int, params: Mapping[str, Any], seed: int | None
) -> Partition:
    """CANDLE's ``generate_index_distribution``: indices into the rows train + validation (+ test,
    when a test share is asked for), in that order."""
    mode = uq_mode(params)
    if mode is None:
        raise CandleError(
            "no UQ split given: set uq_train_fr/uq_valid_fr/uq_test_fr, uq_train_bks/uq_valid_bks/uq_test_bks "
            "or uq_train_vec/uq_valid_vec/uq_test_vec"
        )
    rng = np.random.default_rng(seed)
    if mode == "fraction":
        shares = [float(params[name]) for name in FRACTIONS]
        for name, share in zip(FRACTIONS, shares, strict=True):
            if not 0.0 <= share <= 1.0:
                raise CandleError(f"{name} must lie in [0, 1], got {share}")
        if abs(sum(shares) - 1.0) > 1e-7:
            raise CandleError(f"uq_train_fr + uq_valid_fr + uq_test_fr must add up to 1, got {sum(shares):g}")
        total = n_train + n_validation + (n_test if shares[2] > 0 else 0)
        sizes = [int(round(total * shares[0])), int(round(total * shares[1]))]
        order = rng.permutation(total)
        return _cut(order, sizes, shares[1] > 0, shares[2] > 0)
    if mode == "blocks":
        counts = [int(params[name]) for name in BLOCK_COUNTS]
        if min(counts) < 0 or sum(counts) == 0:
            raise CandleError(f"uq block counts must be >= 0 and not all 0, got {counts}")
        total = n_train + n_validation + (n_test if counts[2] > 0 else 0)
        size = _block_size(total, sum(counts))
        order = rng.permutation(total)
        return _cut(order, [counts[0] * size, counts[1] * size], counts[1] > 0, counts[2] > 0)
    lists = [[int(block) for block in _as_list(params[name])] for name in BLOCK_LISTS]
    blocks = sum(len(found) for found in lists)
    named = sorted(block for found in lists for block in found)
    if named != list(range(blocks)):
        raise CandleError(f"uq_train_vec, uq_valid_vec and uq_test_vec must name blocks 0..{blocks - 1} once each")
    total = n_train + n_validation + (n_test if lists[2] else 0)
    size = _block_size(total, blocks)
    parts = [_blocks(found, total, blocks, size) if found else None for found in lists]
    if parts[0] is None:
        raise CandleError("uq_train_vec names no blocks: the training part would be empty")
    return Partition(parts[0], parts[1], parts[2])


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def _block_size(total: int, blocks: int) -> int:
    size = (total + blocks // 2) // blocks  # rounded, as CANDLE
    if size == 0:
        raise CandleError(f"{total} rows cannot be cut into {blocks} blocks")
    return size


def _blocks(numbers: list[int], total: int, blocks: int, size: int) -> np.ndarray:
    """The row indices of the numbered blocks; the last block takes the rows left over."""
    pieces = [np.arange(n * size, total if n == blocks - 1 else min((n + 1) * size, total)) for n in numbers]
    return np.concatenate(pieces).astype(np.int64)


def _cut(order: np.ndarray, sizes: list[int], validation: bool, test: bool) -> Partition:
    train = order[: sizes[0]]
    rest = order[sizes[0] :]
    return Partition(train, rest[: sizes[1]] if validation else None, rest[sizes[1] :] if test else None)


def cross_validation_folds(
    groups: Sequence[Any] | np.ndarray,
    n_folds: int = 5,
    n_repeats: int = 1,
    portions: Sequence[float] | None = None,
    seed: int | None = None,
) -> list[list[np.ndarray]]:
    """``n_repeats`` random partitions of the rows into ``n_folds`` folds; rows of one group stay
    in one fold (give every row its own group for plain k-fold). ``portions`` are relative fold
    sizes (default equal). Returns, per repeat, the sorted row indices of each fold."""
    groups = np.asarray(groups)
    if n_folds < 2:
        raise CandleError(f"n_folds must be at least 2, got {n_folds}")
    weights = np.ones(n_folds) if portions is None else np.asarray(portions, dtype=float)
    if len(weights) != n_folds or np.any(weights <= 0):
        raise CandleError(f"portions must be {n_folds} positive numbers, got {list(weights)}")
    names, members = np.unique(groups, return_inverse=True)
    if len(names) < n_folds:
        raise CandleError(f"{len(names)} groups cannot fill {n_folds} folds")
    sizes = np.bincount(members, minlength=len(names))
    target = weights / weights.sum() * len(groups)
    rng = np.random.default_rng(seed)
    repeats = []
    for _ in range(n_repeats):
        filled = np.zeros(n_folds)
        fold_of_group = np.empty(len(names), dtype=np.int64)
        # largest groups first (ties in random order), each into the fold furthest below its target
        for group in sorted(rng.permutation(len(names)), key=lambda g: -sizes[g]):
            fold = int(np.argmax(target - filled))
            fold_of_group[group] = fold
            filled[fold] += sizes[group]
        fold_of_row = fold_of_group[members]
        repeats.append([np.flatnonzero(fold_of_row == fold) for fold in range(n_folds)])
    return repeats


def partitioned(dataset: Dataset, params: Mapping[str, Any]) -> Dataset:
    """The data set of one run after the UQ split (``uq_*``) and the fold (``n_fold``, ``fold``), if
    asked for; seeded by ``rng_seed``, so every rank and every fold of a run sees the same split."""
    seed = int(params.get("rng_seed") or 0)
    n_fold = int(params.get("n_fold") or 1)
    mode = uq_mode(params)
    if mode is None and n_fold == 1:
        return dataset
    x_pool, y_pool = _concat(dataset.x_train, dataset.x_val), _concat(dataset.y_train, dataset.y_val)
    x_test, y_test = dataset.x_test, dataset.y_test
    described: dict[str, Any] = {}
    if mode is not None:
        n_test = 0 if x_test is None else len(x_test)
        parts = uq_partition(len(dataset.x_train), n_test, len(dataset.x_val), params, seed)
        if parts.validation is None or not len(parts.validation):
            raise CandleError("candle run needs validation rows: give the UQ split a validation share")
        if parts.test is not None:
            x_pool, y_pool = _concat(x_pool, x_test), _concat(y_pool, y_test)
            x_test, y_test = x_pool[parts.test], y_pool[parts.test]
        x_val, y_val = x_pool[parts.validation], y_pool[parts.validation]
        x_pool, y_pool = x_pool[parts.train], y_pool[parts.train]
        described["uq_split"] = mode
        if n_fold > 1:  # folds cut the UQ training and validation rows together
            x_pool, y_pool = _concat(x_pool, x_val), _concat(y_pool, y_val)
    if n_fold > 1:
        fold = params.get("fold")
        if fold is None or not 0 <= int(fold) < n_fold:
            raise CandleError(f"fold must be one of 0..{n_fold - 1} when n_fold is {n_fold}, got {fold}")
        folds = cross_validation_folds(np.arange(len(x_pool)), n_fold, seed=seed)[0]
        held_out = folds[int(fold)]
        kept = np.setdiff1d(np.arange(len(x_pool)), held_out)
        x_val, y_val = x_pool[held_out], y_pool[held_out]
        x_pool, y_pool = x_pool[kept], y_pool[kept]
        described.update(n_fold=n_fold, fold=int(fold))
    described["rows"] = {"train": len(x_pool), "val": len(x_val), "test": 0 if x_test is None else len(x_test)}
    return replace(
        dataset,
        x_train=x_pool,
        y_train=y_pool,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        meta={**dataset.meta, "partition": described},
        val_groups=None,
    )


def _concat(first: np.ndarray, second: np.ndarray | None) -> np.ndarray:
    return first if second is None or not len(second) else np.concatenate([first, second])

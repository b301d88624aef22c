"""n_fold / fold and CANDLE's uq_* splits in candle run (candle_core.splits), with real training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import SMALL_NT3, resolve, run

from candle_core import CandleError
from candle_core.plugin_manager import get_plugin_manager
from candle_core.run import run_benchmark
from candle_core.splits import cross_validation_folds, uq_mode, uq_partition

FAST = [*SMALL_NT3, "--epochs", "2", "--batch_size", "50", "--plots", "false"]


def test_k_fold_runs_every_fold_and_averages_their_history(candle_dirs):
    results, history = run("nt3", [*FAST, "--n_fold", "3"])
    run_dir = Path(results["params"]["run_dir"])
    folds = [json.loads((run_dir / f"fold_{k}" / "history.json").read_text()) for k in range(3)]
    for epoch in range(2):
        expected = np.mean([fold[epoch]["val_loss"] for fold in folds])
        assert history[epoch]["val_loss"] == pytest.approx(expected)
    assert [f["fold"] for f in results["folds"]] == [0, 1, 2]
    partitions = [
        json.loads((run_dir / f"fold_{k}" / "results.json").read_text())["data"]["partition"] for k in range(3)
    ]
    assert [p["rows"]["val"] for p in partitions] == [467, 467, 466]  # 1,400 rows of train + validation
    assert all(p["rows"]["train"] + p["rows"]["val"] == 1400 for p in partitions)
    assert results["objective"]["best"] == pytest.approx(min(row["val_loss"] for row in history))


def test_one_fold_runs_in_the_run_folder_and_folds_do_not_overlap(candle_dirs):
    params = resolve("nt3", [*FAST, "--epochs", "1", "--n_fold", "4", "--fold", "2"])
    manager = get_plugin_manager()
    results = run_benchmark(manager.benchmark("nt3"), params, manager)
    assert results["data"]["partition"] == {"n_fold": 4, "fold": 2, "rows": {"train": 1050, "val": 350, "test": 0}}
    assert not any(Path(params["run_dir"]).glob("fold_*"))
    folds = cross_validation_folds(np.arange(1400), 4, seed=params["rng_seed"])[0]
    assert sorted(np.concatenate(folds)) == list(range(1400))


def test_a_search_trial_may_choose_the_fold(candle_dirs):
    manager = get_plugin_manager()
    bench = manager.benchmark("nt3")
    from candle_core.parameters.command_line import parse_keyword_flags
    from candle_core.parameters.registry import build_registry
    from candle_core.parameters.resolve import resolve_parameters

    registry = build_registry(bench, manager)
    flags = parse_keyword_flags(registry, [*FAST, "--epochs", "1", "--n_fold", "2"], "test")
    params = resolve_parameters(bench, registry, flags, overrides={"fold": "1"}).values
    assert params["fold"] == 1
    assert run_benchmark(bench, params, manager)["data"]["partition"]["fold"] == 1


def test_uq_fraction_split_in_candle_run(candle_dirs):
    results, _ = run(
        "nt3", [*FAST, "--epochs", "1", "--uq_train_fr", "0.6", "--uq_valid_fr", "0.2", "--uq_test_fr", "0.2"]
    )
    assert results["data"]["partition"] == {"uq_split": "fraction", "rows": {"train": 840, "val": 280, "test": 280}}


def test_uq_block_list_keeps_the_order_of_rows():
    parts = uq_partition(90, 0, 10, {"uq_train_vec": [0, 1, 3], "uq_valid_vec": [2], "uq_test_vec": []}, seed=1)
    assert parts.train.tolist() == list(range(0, 50)) + list(range(75, 100)) and parts.test is None
    assert parts.validation.tolist() == list(range(50, 75))


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"uq_train_fr": 0.5}, "given without uq_valid_fr, uq_test_fr"),
        ({"uq_train_fr": 0.7, "uq_valid_fr": 0.2, "uq_test_fr": 0.2}, "add up to 1"),
        ({"uq_train_bks": 0, "uq_valid_bks": 0, "uq_test_bks": 0}, "not all 0"),
        ({"uq_train_vec": [0], "uq_valid_vec": [0], "uq_test_vec": []}, "once each"),
    ],
)
def test_bad_uq_splits_are_named(given, message):
    with pytest.raises(CandleError, match=message):
        uq_partition(80, 20, 0, given, seed=0)


def test_no_uq_keywords_no_mode():
    assert uq_mode({"uq_train_fr": None}) is None


def test_fold_out_of_range_is_refused(candle_dirs):
    with pytest.raises(CandleError, match="fold must be one of 0..1"):
        run("nt3", [*FAST, "--n_fold", "2", "--fold", "5"])


def test_native_p3b1_trains_folds_now(candle_dirs):
    small = ["--shared_nnet_spec", "16", "--ind_nnet_spec", "8:8:8", "--plots", "false"]
    results, history = run("p3b1", ["--data", "synthetic", *small, "--epochs", "1", "--n_fold", "2"])
    assert len(results["folds"]) == 2 and len(history) == 1

"""CANDLE's training keywords in candle's own loop: shuffle, the *_steps and *_samples limits,
the cyclic learning rate (clr_*), profiling, and verbose/logfile through Python logging."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import SMALL_NT3, run

from candle_core.cyclic_lr import cyclic_rate
from candle_core.training import batch_order

CLR = ["--clr_flag", "true", "--clr_base_lr", "0.001", "--clr_max_lr", "0.01", "--clr_step_size", "2"]


def test_shuffle_false_keeps_the_rows_order_and_train_steps_cuts_the_epoch():
    assert batch_order({"shuffle": False}, 3, 10, 4).tolist() == list(range(10))
    shuffled = [batch_order({"rng_seed": 1}, epoch, 10, 4).tolist() for epoch in (1, 2)]
    assert sorted(shuffled[0]) == list(range(10)) and shuffled[0] != shuffled[1]  # a new order each epoch
    assert shuffled[0] == batch_order({"rng_seed": 1, "shuffle": True}, 1, 10, 4).tolist()  # the default
    assert len(batch_order({"train_steps": 2}, 1, 10, 4)) == 8


@pytest.mark.parametrize(
    ("backend", "mode"), [("torch", "trng1"), ("torch", "trng2"), ("torch", "exp"), ("keras", "trng2")]
)
def test_cyclic_learning_rate_follows_candles_formula(backend, mode):
    if backend == "keras":
        pytest.importorskip("tensorflow")
    argv = [*SMALL_NT3, "-e", "3", "--backend", backend, "--train_steps", "3", *CLR, "--clr_mode", mode]
    argv += ["--clr_gamma", "0.9"]
    _, history = run("nt3", argv)
    for row in history:  # the rate set for the batch after the epoch's last: 3 batches per epoch
        expected = cyclic_rate(3 * row["epoch"], 0.001, 0.01, 2, mode, 0.9)
        assert row["lr"] == pytest.approx(expected, rel=1e-5)
    assert len({round(row["lr"], 9) for row in history}) > 1 or mode == "trng1"


def test_clr_needs_its_keywords_and_excludes_decay(candle):
    missing = candle("run", "nt3", *SMALL_NT3, "-e", "1", "--clr_flag", "true", "--clr_base_lr", "0.001")
    assert missing.code == 2 and "clr_flag needs clr_mode, clr_max_lr" in missing.err
    assert "Traceback" not in missing.err
    both = candle("run", "nt3", *SMALL_NT3, "-e", "1", *CLR, "--clr_mode", "trng1", "--decay", "0.01")
    assert both.code == 2 and "clr_flag and decay both change the learning rate" in both.err


def test_sample_and_step_limits_cut_the_rows_and_are_logged(tmp_path):
    argv = [*SMALL_NT3, "-e", "1", "--train_samples", "100", "--val_samples", "30", "--val_steps", "1"]
    results, history = run("nt3", [*argv, "--logfile", "run.log", "--output_dir", str(tmp_path)])
    log = (Path(results["params"]["run_dir"]) / "run.log").read_text()
    assert "rows used: 100 training, 20 validation" in log  # val_steps 1 x batch 20 < val_samples 30
    assert "candle_core.run_context INFO: epoch 1: loss" in log
    assert len(history) == 1


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_profiling_writes_the_frameworks_trace_of_the_first_epoch(backend, tmp_path):
    if backend == "keras":
        pytest.importorskip("tensorflow")
    argv = [*SMALL_NT3, "-e", "2", "--backend", backend, "--profiling", "true", "--output_dir", str(tmp_path)]
    results, _ = run("nt3", argv)
    profile = Path(results["params"]["run_dir"]) / "profile"
    if backend == "torch":  # a Chrome trace, for Perfetto
        (trace,) = profile.glob("*.pt.trace.json")
        names = {event.get("name", "") for event in json.loads(trace.read_text())["traceEvents"]}
        assert any(name.startswith("aten::") for name in names)
    else:  # TensorFlow's profile, for TensorBoard's profile plugin
        traces = list(profile.glob("plugins/profile/*/*.xplane.pb"))
        assert traces and traces[0].stat().st_size > 0


def test_verbose_logs_each_epoch_to_standard_error(candle):
    quiet = candle("run", "nt3", *SMALL_NT3, "-e", "1")
    loud = candle("run", "nt3", *SMALL_NT3, "-e", "1", "--verbose", "true", "--run_id", "LOUD")
    assert quiet.code == loud.code == 0
    assert "INFO" not in quiet.err and "has no effect" not in quiet.err  # no warning for defaults
    assert "candle: INFO: epoch 1: loss" in loud.err and "candle: INFO: run " in loud.err


def test_keywords_without_effect_warn_when_given(candle):
    done = candle("run", "nt3", *SMALL_NT3, "-e", "1", "--lstm_size", "8", "--train_bool", "false")
    assert done.code == 0
    assert "lstm_size = [8] has no effect here: accepted for CANDLE compatibility" in done.err
    assert "train_bool = False has no effect here" in done.err
    own = candle("run", "testfn", "-e", "1", "--profiling", "true")
    assert "profiling = True has no effect here: benchmark testfn trains in its own run()" in own.err


def test_rows_limits_leave_data_untouched_without_them():
    from candle_core.data.dataset import Dataset
    from candle_core.training import limited

    rows = np.arange(40, dtype=np.float32).reshape(20, 2)
    dataset = Dataset(rows, rows[:, :1], rows[:10], rows[:10, :1], rows[:5], rows[:5, :1])
    same = limited(dataset, {"train_samples": 0}, 4)
    assert len(same.x_train) == 20 and len(same.x_val) == 10 and len(same.x_test) == 5
    cut = limited(dataset, {"train_samples": 7, "val_samples": 3, "test_steps": 1}, 4)
    assert (len(cut.x_train), len(cut.x_val), len(cut.x_test)) == (7, 3, 4)
    assert np.array_equal(cut.x_train, rows[:7])

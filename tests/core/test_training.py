"""The shared training loop on real backends: resume after SIGKILL, learning-rate rules, early stop,
timeout, checkpoint policies."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from helpers import SMALL_NT3, check_timeout_decision, run

from candle_core.cores import THREAD_VARIABLES

CKPT = ["--ckpt_save_interval", "1", "--ckpt_restart_mode", "auto"]


def run_dir(candle_dirs, experiment):
    return candle_dirs / "nt3" / experiment / "RUN000"  # NT3's model file sets output_dir '.'


def kill_after_checkpoint(argv, folder: Path, epoch: int) -> int:
    """Start `candle run` and SIGKILL it as soon as a checkpoint of ``epoch`` (or later) exists."""
    # as many threads as this process trains with (an earlier in-process search may have set
    # OMP_NUM_THREADS for its workers): another count sums in another order, other weights
    threads = {name: str(torch.get_num_threads()) for name in THREAD_VARIABLES}
    proc = subprocess.Popen(
        [sys.executable, "-m", "candle_core.cli", "run", "nt3", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **threads},
    )
    deadline, latest = time.time() + 240, folder / "ckpts" / "latest.json"
    while not (latest.exists() and json.loads(latest.read_text())["epoch"] >= epoch):
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return json.loads((folder / "ckpts" / "latest.json").read_text())["epoch"]


def test_torch_resume_after_sigkill_gives_the_same_weights(candle_dirs):
    argv = [*SMALL_NT3, "--backend", "torch", "-e", "6", *CKPT]
    reference, _ = run("nt3", [*argv, "--experiment_id", "FULL"])
    killed_dir = run_dir(candle_dirs, "KILLED")
    last = kill_after_checkpoint([*argv, "--experiment_id", "KILLED"], killed_dir, 2)
    assert 2 <= last < 6
    assert not (killed_dir / "results.json").exists()
    resumed, history = run("nt3", [*argv, "--experiment_id", "KILLED"])
    assert resumed["resumed_from_epoch"] == last and resumed["epochs_run"] == 6
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5, 6]
    full = torch.load(run_dir(candle_dirs, "FULL") / "model" / "torch_state.pt", weights_only=True)["network"]
    again = torch.load(killed_dir / "model" / "torch_state.pt", weights_only=True)["network"]
    assert full.keys() == again.keys()
    for name in full:
        assert torch.equal(full[name], again[name]), name
    assert resumed["objective"] == reference["objective"]


@pytest.mark.needs("keras")
def test_keras_resumes_at_the_right_epoch(candle_dirs):
    argv = [*SMALL_NT3, "--backend", "keras", "-e", "4", *CKPT, "--experiment_id", "K"]
    folder = run_dir(candle_dirs, "K")
    last = kill_after_checkpoint(argv, folder, 2)
    resumed, history = run("nt3", argv)
    assert resumed["resumed_from_epoch"] == last
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert resumed["status"] == "ok"


def test_reduce_lr_on_plateau(candle_dirs):
    _, history = run(
        "nt3",
        [
            *SMALL_NT3,
            "-e",
            "4",
            "--reduce_lr",
            "true",
            "--reduce_lr_patience",
            "1",
            "--min_delta",
            "100",
            "--reduce_lr_factor",
            "0.5",
        ],
    )
    assert [row["lr"] for row in history] == pytest.approx([3e-4, 3e-4, 1.5e-4, 7.5e-5])


def test_early_stop(candle_dirs):
    results, history = run(
        "nt3", [*SMALL_NT3, "-e", "10", "--early_stop", "true", "--early_stop_patience", "2", "--min_delta", "100"]
    )
    assert results["epochs_run"] == 3 and len(history) == 3
    assert results["stop_reason"].startswith("early stop: val_loss did not improve for 2 epochs")


def test_decay_and_reduce_lr_conflict(candle):
    result = candle("run", "nt3", *SMALL_NT3, "-e", "1", "--decay", "0.01", "--reduce_lr", "true")
    assert result.code == 2 and "reduce_lr and decay" in result.err


def test_decay_lowers_the_rate_per_step(candle_dirs):
    _, history = run("nt3", [*SMALL_NT3, "-e", "2", "--decay", "0.01"])
    assert history[0]["lr"] == pytest.approx(3e-4 / (1 + 0.01 * 55), rel=1e-6)  # 56 steps per epoch


def test_timeout_stops_at_an_epoch_boundary_with_a_checkpoint(candle_dirs):
    results, history = run("nt3", [*SMALL_NT3, "-e", "50", "--timeout", "3", "--ckpt_save_interval", "1"])
    assert results["stop_reason"].startswith("timeout") and 1 <= results["epochs_run"] < 50
    check_timeout_decision(results["stop_reason"], 3.0)
    latest = json.loads((run_dir(candle_dirs, "EXP000") / "ckpts" / "latest.json").read_text())
    assert latest["epoch"] == results["epochs_run"]


def test_checkpoint_keep_policies(candle_dirs):
    run("nt3", [*SMALL_NT3, "-e", "4", "--ckpt_save_interval", "1", "--ckpt_keep_limit", "2", "--experiment_id", "LIN"])
    folder = run_dir(candle_dirs, "LIN") / "ckpts"
    assert sorted(p.name for p in folder.iterdir()) == ["best", "epoch_0003", "epoch_0004", "latest.json"]
    best = json.loads((folder / "best" / "meta.json").read_text())
    history = json.loads((run_dir(candle_dirs, "LIN") / "history.json").read_text())
    assert best["epoch"] == min(history, key=lambda row: row["val_loss"])["epoch"]
    run(
        "nt3",
        [
            *SMALL_NT3,
            "-e",
            "7",
            "--ckpt_save_interval",
            "1",
            "--ckpt_keep_mode",
            "exponential",
            "--ckpt_save_best",
            "false",
            "--experiment_id",
            "EXPO",
        ],
    )
    folder = run_dir(candle_dirs, "EXPO") / "ckpts"
    assert sorted(p.name for p in folder.glob("epoch_*")) == ["epoch_0004", "epoch_0006", "epoch_0007"]


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_damaged_checkpoint_is_skipped_for_the_newest_intact_one(candle, candle_dirs):
    argv = [*SMALL_NT3, "-e", "2", *CKPT, "--ckpt_save_best", "false"]
    run("nt3", argv)
    folder = run_dir(candle_dirs, "EXP000") / "ckpts"
    _damage(folder / "epoch_0002" / "torch_state.pt")
    result = candle("run", "nt3", *argv, "-e", "3")
    assert result.code == 0, result.err
    assert "epoch_0002" in result.err and "damaged checkpoint, skipped" in result.err
    results = json.loads((run_dir(candle_dirs, "EXP000") / "results.json").read_text())
    assert results["resumed_from_epoch"] == 1 and results["epochs_run"] == 3


def test_malformed_checkpoint_records_are_skipped(candle, candle_dirs):
    argv = [*SMALL_NT3, "-e", "2", *CKPT, "--ckpt_save_best", "false"]
    run("nt3", argv)
    folder = run_dir(candle_dirs, "EXP000") / "ckpts"
    (folder / "latest.json").write_text("{not json")
    (folder / "epoch_0002" / "meta.json").write_text('{"epoch": ')
    result = candle("run", "nt3", *argv, "-e", "3")
    assert result.code == 0 and "Traceback" not in result.err, result.err
    assert json.loads((run_dir(candle_dirs, "EXP000") / "results.json").read_text())["resumed_from_epoch"] == 1


def test_no_intact_checkpoint_with_restart_required(candle, candle_dirs):
    argv = [*SMALL_NT3, "-e", "1", "--ckpt_save_interval", "1", "--ckpt_save_best", "false"]
    run("nt3", argv)
    _damage(run_dir(candle_dirs, "EXP000") / "ckpts" / "epoch_0001" / "torch_state.pt")
    result = candle("run", "nt3", *argv, "-e", "2", "--ckpt_restart_mode", "required")
    assert result.code == 2 and "no intact checkpoint" in result.err and "Traceback" not in result.err


@pytest.mark.needs("keras")
def test_a_failed_restart_keeps_the_finished_runs_results(candle, candle_dirs):
    argv = [*SMALL_NT3, "-e", "2", *CKPT]
    assert candle("run", "nt3", *argv).code == 0
    folder = run_dir(candle_dirs, "EXP000")
    finished = (folder / "results.json").read_text()
    failed = candle("run", "nt3", *argv, "-e", "3", "--backend", "keras")  # refused: a torch checkpoint
    assert failed.code == 2
    assert (folder / "results.json").read_text() == finished
    attempt = json.loads((folder / "failed_attempt.json").read_text())
    assert attempt["status"] == "failed" and "torch backend" in attempt["stop_reason"]


@pytest.mark.needs("keras")
def test_another_backends_checkpoint_is_refused(candle):
    argv = [*SMALL_NT3, "-e", "1", *CKPT]
    assert candle("run", "nt3", *argv).code == 0
    result = candle("run", "nt3", *argv, "-e", "2", "--backend", "keras")
    assert result.code == 2 and "written by the torch backend, this run uses keras" in result.err
    assert "Traceback" not in result.err


def test_required_restart_without_checkpoint(candle):
    result = candle("run", "nt3", *SMALL_NT3, "-e", "1", "--ckpt_restart_mode", "required")
    assert result.code == 2 and "holds no checkpoint" in result.err


def test_offline_real_data_suggests_synthetic(candle):
    result = candle("run", "nt3", "--data_url", "http://127.0.0.1:9/normal-tumor/", "-e", "1")
    assert result.code == 2 and "http://127.0.0.1:9/normal-tumor/nt_train2.csv" in result.err
    assert "--data synthetic" in result.err


def test_real_data_path_from_a_local_server(candle_dirs, tmp_path):
    """The real-data path end to end: CSVs (label, then features) fetched, parsed, cached, trained."""
    import numpy as np

    from candle_benchmarks.nt3.data import synthetic_tables

    x_train, y_train, x_test, y_test = synthetic_tables(120)
    site = tmp_path / "site"
    site.mkdir()
    np.savetxt(site / "nt_train2.csv", np.column_stack([y_train, x_train]), delimiter=",", fmt="%.5g")
    np.savetxt(site / "nt_test2.csv", np.column_stack([y_test, x_test]), delimiter=",", fmt="%.5g")
    results, _ = run(
        "nt3", ["--data_url", site.as_uri() + "/", "-e", "1", "--feature_subsample", "100", "--optimizer", "adam"]
    )
    data_dir = candle_dirs / "nt3" / "Data"
    assert (data_dir / "nt_train2.csv").exists() and len(list((data_dir / ".parsed").glob("*.npy"))) == 2
    assert results["status"] == "ok" and results["parameters"] > 0
    os.remove(site / "nt_train2.csv")  # cached: a second run does not need the source
    results, _ = run(
        "nt3", ["--data_url", site.as_uri() + "/", "-e", "1", "--feature_subsample", "100", "--experiment_id", "AGAIN"]
    )
    assert results["status"] == "ok"

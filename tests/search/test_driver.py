"""Searches end to end: local trial processes, failures, SIGKILL of the driver and --resume, results."""

import csv
import json
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from helpers import testfn_experiment as experiment

from candle_core.search.store import ResultsStore


@pytest.mark.parametrize(
    "algorithm, options",
    [
        ("grid", ["--option", "grid_points=3"]),
        ("random", []),
        ("mbo", ["--option", "initial_design=4"]),
        ("ga", ["--option", "population=4"]),
    ],
)
def test_each_algorithm_end_to_end(candle, candle_dirs, space, algorithm, options):
    result = candle(
        "search",
        "testfn",
        "--algorithm",
        algorithm,
        "--space",
        str(space),
        "--budget",
        "9",
        "--workers",
        "2",
        *options,
        "-e",
        "4",
        "--experiment_id",
        algorithm,
    )
    assert result.code == 0, result.err
    folder = experiment(candle_dirs, algorithm)
    trials = ResultsStore(folder / "results.sqlite").trials()
    assert len(trials) == 9 and all(t.status == "ok" for t in trials)
    assert all((folder / f"RUN{t.id:04d}" / "results.json").exists() for t in trials)
    assert (folder / "search_progress.png").stat().st_size > 5000
    assert "best val_loss (best epoch)" in result.out


def test_failures_are_recorded_and_the_search_goes_on(candle, candle_dirs, tmp_path):
    upf = tmp_path / "runs.upf"
    upf.write_text(
        "\n".join(
            json.dumps(line)
            for line in [
                {"id": "fine", "x1": 3.0, "x2": 2.0},
                {"id": "raises", "fail": "raise", "fail_epoch": 2},
                {"id": "aborts", "fail": "abort"},
                {"id": "hangs", "fail": "hang"},
                {"id": "bad-value", "epochs": "many"},
                {"id": "also-fine", "x1": 9.0},
            ]
        )
        + "\n"
    )
    result = candle(
        "upf", "testfn", str(upf), "--workers", "2", "--trial-timeout", "4", "-e", "3", "--experiment_id", "U"
    )
    assert result.code == 0, result.err
    trials = {t.label: t for t in ResultsStore(experiment(candle_dirs, "U") / "results.sqlite").trials()}
    assert trials["fine"].status == "ok" and trials["also-fine"].status == "ok"
    assert (
        trials["raises"].status == "failed"
        and "RuntimeError: testfn failed on purpose at epoch 2" in trials["raises"].error
    )
    assert trials["aborts"].status == "failed" and "SIGABRT" in trials["aborts"].error
    assert trials["hangs"].status == "failed" and "timeout: killed after 4 s" in trials["hangs"].error
    assert trials["bad-value"].status == "failed" and "'epochs'" in trials["bad-value"].error
    assert (experiment(candle_dirs, "U") / "RUN_fine" / "results.json").exists()


def test_driver_killed_then_resumed_loses_and_reruns_nothing(candle, candle_dirs, space):
    argv = [
        "search",
        "testfn",
        "--algorithm",
        "random",
        "--space",
        str(space),
        "--budget",
        "12",
        "--workers",
        "2",
        "-e",
        "3",
        "--sleep",
        "0.25",
        "--experiment_id",
        "R",
    ]
    database = experiment(candle_dirs, "R") / "results.sqlite"
    driver = subprocess.Popen(
        [sys.executable, "-m", "candle_core.cli", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while True:
        assert driver.poll() is None and time.time() < deadline
        if database.exists():
            with sqlite3.connect(database) as db:
                try:
                    if db.execute("SELECT COUNT(*) FROM trials WHERE status = 'ok'").fetchone()[0] >= 4:
                        break
                except sqlite3.OperationalError:  # the file exists, its table not yet
                    pass
        time.sleep(0.1)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    before = {t.id: t for t in ResultsStore(database).trials() if t.status != "running"}
    assert 4 <= len(before) < 12
    stamps = {i: (experiment(candle_dirs, "R") / f"RUN{i:04d}" / "results.json").stat().st_mtime_ns for i in before}
    again = candle(*argv)
    assert again.code == 2 and "--resume" in again.err  # never silently on top of an old search
    resumed = candle(*argv, "--resume")
    assert resumed.code == 0, resumed.err
    after = {t.id: t for t in ResultsStore(database).trials()}
    assert len(after) == 12 and all(t.status == "ok" for t in after.values())
    for i, trial in before.items():
        assert (after[i].params, after[i].objective, after[i].started) == (trial.params, trial.objective, trial.started)
        assert (experiment(candle_dirs, "R") / f"RUN{i:04d}" / "results.json").stat().st_mtime_ns == stamps[i]
    assert f"{len(before)} from before the resume" in resumed.out
    changed = candle(*argv, "--resume", "--objective", "loss")
    assert changed.code == 2 and "different settings (objective)" in changed.err


def test_results_table_and_csv(candle, candle_dirs, space, tmp_path):
    assert (
        candle("search", "testfn", "--space", str(space), "--budget", "5", "-e", "2", "--experiment_id", "T").code == 0
    )
    table = candle("results", str(experiment(candle_dirs, "T")))
    assert table.code == 0
    lines = table.out.splitlines()
    assert lines[1].split()[:3] == ["rank", "trial", "status"] and len(lines) == 3 + 5
    values = [float(line.split()[3]) for line in lines[3:]]
    assert values == sorted(values)
    out = tmp_path / "t.csv"
    assert candle("results", str(experiment(candle_dirs, "T")), "--csv", str(out)).code == 0
    rows = list(csv.reader(out.open()))
    assert rows[0][:4] == ["rank", "trial", "status", "val_loss"] and len(rows) == 6
    missing = candle("results", str(tmp_path))
    assert missing.code == 2 and "no search results here" in missing.err


def test_search_errors(candle, tmp_path, space):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"name": "x9", "type": "float", "lower": 0, "upper": 1}]))
    result = candle("search", "testfn", "--space", str(bad), "--budget", "2")
    assert result.code == 2 and "'x9' is not a keyword of benchmark testfn" in result.err
    result = candle("search", "testfn", "--space", str(space), "--algorithm", "annealing")
    assert result.code == 2 and "unknown search 'annealing'" in result.err
    result = candle("search", "testfn", "--budget", "2")
    assert result.code == 2 and "--space" in result.err


def test_model_cache_keeps_the_best_k(tmp_path, candle_dirs):
    space = tmp_path / "lr.json"
    space.write_text(
        json.dumps([{"name": "learning_rate", "type": "float", "lower": 1e-4, "upper": 1e-2, "log": True}])
    )
    command = [
        sys.executable,
        "-m",
        "candle_core.cli",
        "search",
        "nt3",
        "--space",
        str(space),
        "--budget",
        "5",
        "--workers",
        "2",
        "--keep-models",
        "2",
        "--data",
        "synthetic",
        "--feature_subsample",
        "120",
        "-e",
        "1",
        "--conv",
        "8",
        "10",
        "1",
        "--dense",
        "16",
        "--experiment_id",
        "C",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    folder = candle_dirs / "nt3" / "C"
    trials = sorted(ResultsStore(folder / "results.sqlite").trials(), key=lambda t: t.objective)
    with_model = {t.id for t in trials if (folder / f"RUN{t.id:04d}" / "model").exists()}
    assert with_model == {trials[0].id, trials[1].id}
    assert all((folder / f"RUN{t.id:04d}" / "results.json").exists() for t in trials)
    index = json.loads((folder / "model_cache.json").read_text())
    assert sorted(index["removed"]) == sorted(t.id for t in trials[2:])


def test_accuracy_objectives_are_maximized_by_default(candle, candle_dirs, tmp_path):
    space = tmp_path / "dropout.json"
    space.write_text(json.dumps([{"name": "dropout", "type": "float", "lower": 0.0, "upper": 0.5}]))
    argv = ["--space", str(space), "--algorithm", "random", "--budget", "3", "--workers", "2", "-e", "3"]
    assert candle("search", "bcw", *argv, "--objective", "val_accuracy", "--experiment_id", "ACC").code == 0
    table = candle("results", str(candle_dirs / "bcw" / "Output" / "ACC"))
    assert table.code == 0 and "val_accuracy maximized" in table.out, table.out
    values = [float(line.split()[3]) for line in table.out.splitlines()[3:6]]
    assert values == sorted(values, reverse=True)
    result = candle("search", "bcw", *argv, "--objective", "val_accuracy", "--minimize", "--experiment_id", "MIN")
    assert result.code == 0
    assert "val_accuracy minimized" in candle("results", str(candle_dirs / "bcw" / "Output" / "MIN")).out

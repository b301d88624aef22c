"""Searches under faults: a second driver, a killed driver, hostile values, damaged stores."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from helpers import testfn_experiment as experiment


def search(space, name, budget="4", *more):
    return ["search", "testfn", "--algorithm", "random", "--space", str(space), "--budget", budget,
            "--workers", "2", "-e", "2", "--experiment_id", name, *more]  # fmt: skip


def start(argv):
    command = [sys.executable, "-m", "candle_core.cli", *argv]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for(condition, what, seconds=120):
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.1)


def trial_processes():
    """Processes started by a multiprocessing fork server (the trial processes and their server)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if b"forkserver" in handle.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_a_second_driver_or_a_concurrent_resume_is_refused(candle, candle_dirs, space):
    argv = search(space, "LEASE", "6", "--sleep", "1")
    first = start(argv)
    wait_for(lambda: (experiment(candle_dirs, "LEASE") / "driver.lease").exists(), "the first driver's lease")
    for extra in ([], ["--resume"]):
        second = candle(*argv, *extra)
        assert second.code == 2 and "being driven by process" in second.err and "Traceback" not in second.err
    assert first.wait(timeout=300) == 0, first.stderr.read()
    with sqlite3.connect(experiment(candle_dirs, "LEASE") / "results.sqlite") as db:
        rows = db.execute("SELECT id, status FROM trials ORDER BY id").fetchall()
    assert rows == [(i, "ok") for i in range(6)]  # nothing of the first driver's was overwritten
    assert not (experiment(candle_dirs, "LEASE") / "driver.lease").exists()


def test_a_stale_lease_is_taken_over(candle, candle_dirs, space):
    folder = experiment(candle_dirs, "STALE")
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (folder / "driver.lease").write_text(json.dumps({"host": os.uname().nodename, "pid": dead.pid}))
    done = candle(*search(space, "STALE"))
    assert done.code == 0 and "taking over a stale lease" in done.err


def test_trials_die_with_a_killed_driver(candle_dirs, space):
    before = set(trial_processes())
    driver = start(search(space, "KILLED", "4", "--sleep", "30"))
    database = experiment(candle_dirs, "KILLED") / "results.sqlite"

    def running():
        if not database.exists():
            return False
        with sqlite3.connect(database) as db:
            return db.execute("SELECT COUNT(*) FROM trials WHERE status = 'running'").fetchone()[0] == 2

    wait_for(running, "two running trials")
    time.sleep(1)
    trials = set(trial_processes()) - before
    assert trials, "the trial processes were not found"
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    wait_for(lambda: not (set(trial_processes()) & trials), "the trials to end", seconds=120)


@pytest.mark.parametrize("key", ["run_id", "output_dir", "experiment_id"])
def test_search_values_cannot_place_trials_outside_the_experiment(candle, candle_dirs, tmp_path, key):
    upf = tmp_path / "runs.upf"
    upf.write_text(json.dumps({"id": "a", key: "../../../../../escaped"}) + "\n")
    done = candle("upf", "testfn", str(upf), "--workers", "1", "-e", "1")
    assert done.code == 2 and f"{upf}:1: a search may not set {key}" in done.err
    space = tmp_path / "space.json"
    space.write_text(json.dumps([{"name": key, "type": "categorical", "values": ["../x", "y"]}]))
    done = candle("search", "testfn", "--space", str(space), "--budget", "1")
    assert done.code == 2 and f"a search may not set {key}" in done.err
    assert not list(tmp_path.parent.rglob("escaped*")) and not (candle_dirs.parent / "x").exists()


def test_resume_on_an_emptied_store_is_refused_and_old_trials_are_kept(candle, candle_dirs, space):
    argv = search(space, "EMPTIED")
    assert candle(*argv).code == 0
    folder = experiment(candle_dirs, "EMPTIED")
    params = (folder / "RUN0000" / "final_params.json").read_text()
    (folder / "results.sqlite").write_bytes(b"")
    resumed = candle(*argv, "--resume")
    assert resumed.code == 2 and "is empty" in resumed.err and "Traceback" not in resumed.err
    for extra in (["--resume"], []):  # again, and as a new search over the old trial folders
        done = candle(*argv, *extra)
        assert done.code == 2 and "Traceback" not in done.err
    assert (folder / "RUN0000" / "final_params.json").read_text() == params


def test_damaged_and_foreign_stores_are_one_line_errors(candle, candle_dirs, space, tmp_path):
    argv = search(space, "DAMAGED")
    assert candle(*argv).code == 0
    store = experiment(candle_dirs, "DAMAGED") / "results.sqlite"
    data = store.read_bytes()
    store.write_bytes(data[: len(data) // 2])
    for command in (["results", str(store.parent)], [*argv, "--resume"]):
        done = candle(*command)
        assert done.code == 2 and "Traceback" not in done.err and str(store) in done.err, done.err
    text = tmp_path / "notes.sqlite"
    text.write_text("hello, not a database\n" * 100)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    for path, message in ((text, "not a candle results store"), (other, "not a candle results store")):
        done = candle("results", str(path))
        assert done.code == 2 and message in done.err and "Traceback" not in done.err
    with sqlite3.connect(other) as db:  # a foreign database is never changed
        assert [row[0] for row in db.execute("SELECT name FROM sqlite_master")] == ["t"]


def test_results_csv_into_a_missing_folder(candle, candle_dirs, space, tmp_path):
    assert candle(*search(space, "CSV")).code == 0
    done = candle("results", str(experiment(candle_dirs, "CSV")), "--csv", str(tmp_path / "nope" / "t.csv"))
    assert done.code == 2 and "does not exist" in done.err and "Traceback" not in done.err

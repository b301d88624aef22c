"""Walltimes on the test Slurm: the job's warning signal stops a search cleanly, a --chain of jobs
resumes it, and no trial is lost (checked against the store)."""

from __future__ import annotations

import json
import re
import time

import pytest
from helpers import submitted_job_ids, wait_until
from helpers import testfn_experiment as experiment

from candle_core.cluster.jobs import exit_code
from candle_core.cluster.walltime import STOPPED_EXIT_CODE
from candle_core.search.store import ResultsStore


def _finished(folder) -> list:
    database = folder / "results.sqlite"
    if not database.exists():  # not created yet (and reading must not create it)
        return []
    return [t for t in ResultsStore(database, create=False).trials() if t.status != "running"]


def test_warning_signal_stops_the_search_and_the_chain_resumes_it(candle, candle_dirs, slurm, space):
    search = ("search", "testfn", "--space", str(space), "--budget", "6", "-e", "2", "--sleep", "1")
    first, second = submitted_job_ids(
        candle("submit", "--chain", "2", "--", *search, "--experiment_id", "warned", env=slurm.env)
    )
    folder = experiment(candle_dirs, "warned")
    wait_until(lambda: len(_finished(folder)) >= 2, "two trials finished")
    # the warning as Slurm sends it (--signal=B:USR1@T): to the batch shell, which forwards it
    assert slurm.command("scancel", "--batch", "--signal=USR1", first).returncode == 0
    slurm.wait_job(second)
    log = (folder / "jobs" / f"slurm-{first}.out").read_text()
    assert exit_code(folder, first) == STOPPED_EXIT_CODE, log
    assert "stopped before the budget: the batch job's walltime warning came" in log
    assert exit_code(folder, second) == 0
    trials = ResultsStore(folder / "results.sqlite").trials()
    assert len(trials) == 6 and all(t.status == "ok" for t in trials)  # the stopped trial ran again
    shown = candle("jobs", str(folder), env=slurm.env).out
    assert re.search(rf"{first}\s+STOPPED \(walltime", shown) and re.search(rf"{second}\s+COMPLETED", shown)


@pytest.mark.slow  # 1 min; test_warning_signal_stops_the_search_and_the_chain_resumes_it covers one link
def test_walltime_chain_finishes_the_budget(candle, candle_dirs, slurm, space, tmp_path):
    search = ("search", "testfn", "--space", str(space), "--budget", "12", "-e", "2", "--sleep", "2")
    jobs = submitted_job_ids(
        candle("submit", "--time", "00:00:40", "--chain", "4", "--", *search, "--experiment_id", "short", env=slurm.env)
    )
    folder = experiment(candle_dirs, "short")
    slurm.wait_job(jobs[-1])
    codes = [exit_code(folder, job) for job in jobs]
    logs = "\n".join(p.read_text() for p in sorted((folder / "jobs").glob("slurm-*.out")))
    trials = ResultsStore(folder / "results.sqlite").trials()
    assert len(trials) == 12 and all(t.status == "ok" for t in trials), logs
    assert codes[0] == STOPPED_EXIT_CODE and 0 in codes, (codes, logs)


def test_warned_run_stops_with_a_checkpoint_and_the_chain_continues_it(candle, candle_dirs, slurm):
    small = ("--data", "synthetic", "--feature_subsample", "300", "--conv", "8", "20", "1", "--dense", "16", "8")
    run = ("run", "nt3", *small, "-e", "8", "--experiment_id", "longrun")
    first, second = submitted_job_ids(candle("submit", "--chain", "2", "--", *run, env=slurm.env))
    history_file = candle_dirs / "nt3" / "longrun" / "RUN000" / "history.json"
    wait_until(
        lambda: history_file.exists() and len(json.loads(history_file.read_text())) >= 2,
        "the run reached its second epoch",
    )
    assert slurm.command("scancel", "--batch", "--signal=USR1", first).returncode == 0
    slurm.wait_job(second)
    folder = candle_dirs / "nt3" / "longrun"
    logs = "\n".join(p.read_text() for p in sorted((folder / "jobs").glob("slurm-*.out")))
    assert exit_code(folder, first) == STOPPED_EXIT_CODE and exit_code(folder, second) == 0, logs
    assert "walltime: the batch job's warning came; stopped with a checkpoint" in logs
    results = json.loads((folder / "RUN000" / "results.json").read_text())
    assert results["epochs_run"] == 8 and results["resumed_from_epoch"] >= 2, logs
    history = json.loads(history_file.read_text())
    assert [row["epoch"] for row in history] == list(range(1, 9))  # no epoch lost or run twice


def test_the_driver_starts_no_trial_that_would_outlast_the_allocation(monkeypatch):
    from candle_core.cluster import walltime
    from candle_core.search import driver

    monkeypatch.setenv(walltime.END_VARIABLE, str(time.time() + 60))
    assert driver._walltime_stop(longest=0.0) is None  # no trial has ended yet: no estimate
    assert driver._walltime_stop(longest=30.0) is None  # 60 s left, minus the 15 s margin, fits 30
    assert "a trial takes up to 50 s" in driver._walltime_stop(longest=50.0)
    assert not driver._must_leave()
    monkeypatch.setenv(walltime.END_VARIABLE, str(time.time() + 5))
    assert driver._must_leave() and "the batch job's walltime warning came" in driver._walltime_stop(0.0)
    monkeypatch.delenv(walltime.END_VARIABLE)
    assert driver._walltime_stop(longest=1e9) is None and driver._must_leave()  # no end known

"""A node lost mid-search on the test Slurm: its trials are recorded "node lost" and run again on
the nodes left, and the search completes with every trial of its budget."""

from __future__ import annotations

import json
import time

import pytest
from helpers import submitted_job_ids, wait_until
from helpers import testfn_experiment as experiment

from candle_core.cluster.jobs import exit_code
from candle_core.search.store import ResultsStore
from candle_core.search.trial import NODE_LOST

pytestmark = pytest.mark.needs("mpi4py")  # srun starts MPI ranks and the mpi evaluator


def _submit_search(candle, slurm, space, evaluator: str, budget: int, sleep: str, experiment: str) -> str:
    search = ("search", "testfn", "--space", str(space), "--evaluator", evaluator, "--budget", str(budget))
    search += ("-e", "3", "--sleep", sleep, "--experiment_id", experiment)
    (job,) = submitted_job_ids(candle("submit", "--nodes", "3", "--", *search, env=slurm.env))
    return job


def _wait_for_task(slurm, node: str, command: str) -> None:
    """Until a process whose command line holds ``command`` runs on ``node``."""
    wait_until(lambda: any(command in line for line in slurm.node_tasks(node).values()), f"{command} ran on {node}")


def test_a_lost_node_loses_no_trial(candle, candle_dirs, slurm, space):
    job = _submit_search(candle, slurm, space, "srun", 9, "1.5", "lossy")
    folder = experiment(candle_dirs, "lossy")
    database = folder / "results.sqlite"
    _wait_for_task(slurm, "n3", "candle_core.search.trial_job")
    try:
        slurm.kill_node("n3")  # in the middle of a trial
        slurm.wait_job(job)
    finally:
        slurm.revive_node("n3")
    log = next((folder / "jobs").glob("slurm-*.out")).read_text()
    assert exit_code(folder, job) == 0, log
    trials = ResultsStore(database).trials()
    lost = [t for t in trials if t.status == "failed" and t.error.startswith(NODE_LOST)]
    ok = [t for t in trials if t.status == "ok"]
    assert len(ok) == 9 and len(trials) == 9 + len(lost), log  # the budget, all run; nothing else failed
    assert lost and all("n3" in t.error for t in lost), [t.error for t in trials]
    for t in lost:  # each lost trial ran again with the same parameters, elsewhere
        again = [o for o in ok if o.params == t.params and o.id > t.id]
        assert again and again[0].results["job"]["nodes"] != ["n3"]
    assert all(o.results["job"]["nodes"] != ["n3"] for o in ok if o.id > max(t.id for t in lost))


@pytest.mark.slow  # 50 s; a lost node's trials and MPI searches are covered by the tests above
def test_data_parallel_run_restarts_on_the_nodes_left(candle, candle_dirs, slurm):
    small = ("--data", "synthetic", "--feature_subsample", "300", "--conv", "8", "20", "1", "--dense", "16", "8")
    run = ("run", "nt3", *small, "-e", "6", "--comm", "ring", "--comm_timeout", "6", "--ckpt_save_interval", "1")
    (job,) = submitted_job_ids(candle("submit", "--nodes", "3", "--", *run, "--experiment_id", "dp", env=slurm.env))
    folder = candle_dirs / "nt3" / "dp"
    history = folder / "RUN000" / "history.json"
    wait_until(lambda: history.exists() and json.loads(history.read_text()), "the run finished an epoch")
    try:
        slurm.kill_node("n3")  # one of the three ranks dies with its node
        slurm.wait_job(job)
    finally:
        slurm.revive_node("n3")
    log = next((folder / "jobs").glob("slurm-*.out")).read_text()
    assert exit_code(folder, job) == 0, log
    assert "node(s) lost; restart on n1,n2" in log
    results = json.loads((folder / "RUN000" / "results.json").read_text())
    assert results["epochs_run"] == 6 and results["resumed_from_epoch"] >= 1, log
    assert results["data_parallel"]["ranks"] == 2  # finished on the two nodes left
    assert [row["epoch"] for row in json.loads(history.read_text())] == list(range(1, 7))


def test_mpi_search_restarts_on_the_nodes_left(candle, candle_dirs, slurm, space):
    job = _submit_search(candle, slurm, space, "mpi", 8, "1", "mpilost")
    folder = experiment(candle_dirs, "mpilost")
    _wait_for_task(slurm, "n3", "candle_core")
    time.sleep(3)  # a trial under way
    try:
        slurm.kill_node("n3")
        slurm.wait_job(job)
    finally:
        slurm.revive_node("n3")
    log = next((folder / "jobs").glob("slurm-*.out")).read_text()
    assert exit_code(folder, job) == 0 and "node(s) lost; restart on n1,n2" in log, log
    trials = ResultsStore(folder / "results.sqlite").trials()
    assert len(trials) == 8 and all(t.status == "ok" for t in trials), log

"""--ranks-per-trial: each trial a data-parallel MPI job on a group of ranks (real mpiexec)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from candle_core.launch import find_mpiexec
from candle_core.objective import Objective
from candle_core.search.store import ResultsStore
from candle_core.search.trial import Trial, TrialTask
from candle_core.search.trial_job import LOG_FILE, outcome
from tests.helpers import SMALL_NT3

MPIEXEC = find_mpiexec()


@pytest.mark.skipif(MPIEXEC is None, reason="mpiexec is not installed (pip install 'candle[mpi]')")
def test_two_groups_of_two_ranks_train_nt3_trials(tmp_path, candle_dirs):
    upf = tmp_path / "runs.upf"
    lines = [{"id": "a", "learning_rate": 0.001}, {"id": "b", "learning_rate": 0.0003}]
    lines += [{"id": "c", "learning_rate": 0.0001}, {"id": "bad", "optimizer": "adamm"}]
    upf.write_text("\n".join(json.dumps(line) for line in lines))
    command = [MPIEXEC, "-n", "5", sys.executable, "-m", "candle_core.cli", "upf", "nt3", str(upf)]
    command += ["--evaluator", "mpi", "--ranks-per-trial", "2", *SMALL_NT3, "-e", "1", "--experiment_id", "G"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    experiment = next(candle_dirs.glob("nt3/**/G"))
    trials = {t.label: t for t in ResultsStore(experiment / "results.sqlite").trials()}
    assert trials["bad"].status == "failed" and "adamm" in trials["bad"].error
    for label in "abc":
        assert trials[label].status == "ok", trials[label].error
        results = json.loads((experiment / f"RUN_{label}" / "results.json").read_text())
        assert results["data_parallel"] == {"ranks": 2, "comm": "ring", "rank": 0}
        assert (experiment / f"RUN_{label}" / LOG_FILE).exists()
    spans = sorted(
        (t.results["timings"]["started"], t.results["timings"]["wall_seconds"])
        for t in trials.values()
        if t.status == "ok"
    )
    assert any(s2 < s1 + w1 for (s1, w1), (s2, _) in zip(spans, spans[1:], strict=False)), spans  # two groups at once


def test_a_crashed_trial_job_is_a_failed_trial(tmp_path):
    task = TrialTask("nt3", (), "E", Trial(7, {"learning_rate": 0.1}), Objective("val_loss", False, "best"))
    trial = outcome(task, -9, tmp_path / "missing", tmp_path / LOG_FILE, None)
    assert trial.status == "failed" and "killed by signal SIGKILL" in trial.error and str(tmp_path) in trial.error
    assert "timed out after 5 s" in outcome(task, 124, tmp_path / "missing", Path("log"), 5.0).error

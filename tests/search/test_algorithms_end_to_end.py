"""Every algorithm on reduced synthetic NT3 (torch), 2 workers, on both evaluators; multi-fidelity
and population-based details on testfn and NT3."""

import json
import shutil
import subprocess
import sys

import pytest
from helpers import BRANIN_SPACE

from candle_core.search.store import ResultsStore

NT3 = [
    "--data",
    "synthetic",
    "--feature_subsample",
    "120",
    "--optimizer",
    "adam",
    "-e",
    "1",
    "--conv",
    "8",
    "10",
    "1",
    "8",
    "5",
    "1",
    "--dense",
    "16",
]
NT3_SPACE = [
    {"name": "learning_rate", "type": "float", "lower": 1e-4, "upper": 1e-2, "log": True},
    {"name": "dropout", "type": "float", "lower": 0.0, "upper": 0.5},
    {"name": "activation", "type": "categorical", "values": ["relu", "tanh"]},
]
ALGORITHMS = {
    "grid": ["--option", "grid_points=2"],
    "random": [],
    "mbo": ["--option", "initial_design=2"],
    "ga": ["--option", "population=2"],
    "hyperspace": ["--option", "max_split=1"],
    "asha": ["--option", "max_epochs=3"],
    "hyperband": ["--option", "max_epochs=3"],
    "bohb": ["--option", "max_epochs=3", "--option", "random_fraction=0"],
    "pbt": ["--option", "population=2", "--option", "round_epochs=1"],
}
MPIEXEC = shutil.which("mpiexec", path=str(__import__("pathlib").Path(sys.executable).parent))


def space_file(tmp_path, entries):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(entries))
    return path


def search(evaluator, *args):
    command = [sys.executable, "-m", "candle_core.cli", "search", *args]
    if evaluator == "mpi":
        command = [MPIEXEC, "-n", "3", *command, "--evaluator", "mpi"]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("evaluator", ["local", "mpi"])
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_every_algorithm_on_reduced_nt3(tmp_path, candle_dirs, algorithm, evaluator):
    if evaluator == "mpi" and MPIEXEC is None:
        pytest.skip("mpiexec is not installed (pip install 'candle[mpi]')")
    result = search(
        evaluator,
        "nt3",
        "--algorithm",
        algorithm,
        "--space",
        str(space_file(tmp_path, NT3_SPACE)),
        "--budget",
        "4",
        "--workers",
        "2",
        *ALGORITHMS[algorithm],
        *NT3,
        "--experiment_id",
        f"{algorithm}_{evaluator}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    trials = ResultsStore(candle_dirs / "nt3" / f"{algorithm}_{evaluator}" / "results.sqlite").trials()
    assert len(trials) == 4 and all(t.status == "ok" for t in trials), [t.error for t in trials]
    assert all(t.history and "val_loss" in t.history[-1] for t in trials)


def test_asha_promotes_the_best_and_continues_them(candle, candle_dirs, tmp_path):
    space = space_file(tmp_path, BRANIN_SPACE)
    result = candle(
        "search",
        "testfn",
        "--algorithm",
        "asha",
        "--space",
        str(space),
        "--budget",
        "16",
        "--workers",
        "2",
        "--option",
        "max_epochs=9",
        "--experiment_id",
        "A",
    )
    assert result.code == 0, result.err
    trials = ResultsStore(candle_dirs / "testfn" / "Output" / "A" / "results.sqlite").trials()
    by_rung = {e: [t for t in trials if t.params["epochs"] == e] for e in (1, 3, 9)}
    assert by_rung[1] and by_rung[3]
    bottom = {json.dumps({k: v for k, v in t.params.items() if k != "epochs"}, sort_keys=True): t for t in by_rung[1]}
    for promoted in by_rung[3]:
        key = json.dumps({k: v for k, v in promoted.params.items() if k != "epochs"}, sort_keys=True)
        assert key in bottom  # a promotion continues a configuration of the rung below
        assert len(promoted.history) == 3


def test_pbt_copies_weights_of_the_best_into_the_worst(tmp_path, candle_dirs):
    result = search(
        "local",
        "nt3",
        "--algorithm",
        "pbt",
        "--space",
        str(space_file(tmp_path, NT3_SPACE[:1])),
        "--budget",
        "8",
        "--workers",
        "2",
        "--option",
        "population=4",
        "--option",
        "round_epochs=1",
        "--option",
        "fraction=0.25",
        *NT3,
        "--experiment_id",
        "P",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    trials = {t.label: t for t in ResultsStore(candle_dirs / "nt3" / "P" / "results.sqlite").trials()}
    first = {m: trials[f"m{m}_r0"] for m in range(4)}
    ranked = sorted(first, key=lambda m: first[m].objective)
    best, worst = ranked[0], ranked[-1]
    second = trials[f"m{worst}_r1"]
    assert len(second.history) == 2 and second.history[0]["val_loss"] == first[best].history[0]["val_loss"]
    assert second.params["learning_rate"] != first[worst].params["learning_rate"]
    kept = trials[f"m{best}_r1"]  # a top member continues its own weights and values
    assert kept.history[0]["val_loss"] == first[best].history[0]["val_loss"]
    assert kept.params["learning_rate"] == first[best].params["learning_rate"]


def test_hyperspace_runs_every_subspace(candle, candle_dirs, tmp_path):
    space = space_file(tmp_path, BRANIN_SPACE)
    result = candle(
        "search",
        "testfn",
        "--algorithm",
        "hyperspace",
        "--space",
        str(space),
        "--budget",
        "12",
        "--workers",
        "2",
        "--experiment_id",
        "H",
    )
    assert result.code == 0, result.err
    trials = ResultsStore(candle_dirs / "testfn" / "Output" / "H" / "results.sqlite").trials()
    assert {t.label.split("_")[0] for t in trials} == {"s0", "s1", "s2", "s3"}
    low_x1 = [t.params["x1"] for t in trials if t.label.startswith("s0_")]
    assert all(x <= 2.5 + 0.25 * 15 / 2 + 1e-9 for x in low_x1)  # subspace 0: the lower half of x1 (+ overlap)


def test_mpi_evaluator_records_a_crash_and_goes_on(tmp_path, candle_dirs):
    if MPIEXEC is None:
        pytest.skip("mpiexec is not installed (pip install 'candle[mpi]')")
    upf = tmp_path / "runs.upf"
    upf.write_text(
        "\n".join(
            json.dumps(line)
            for line in [
                {"id": "a", "x1": 1.0},
                {"id": "boom", "fail": "abort"},
                {"id": "b", "x1": 2.0},
                {"id": "c", "x1": 3.0},
            ]
        )
    )
    command = [
        MPIEXEC,
        "-n",
        "3",
        sys.executable,
        "-m",
        "candle_core.cli",
        "upf",
        "testfn",
        str(upf),
        "--evaluator",
        "mpi",
        "-e",
        "2",
        "--experiment_id",
        "MPI",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    trials = {t.label: t for t in ResultsStore(candle_dirs / "testfn" / "Output" / "MPI" / "results.sqlite").trials()}
    assert trials["boom"].status == "failed" and "SIGABRT" in trials["boom"].error
    assert all(trials[k].status == "ok" for k in "abc")

"""One multi-rank trial as an MPI job of its own (``--ranks-per-trial k``).

The MPI evaluator's group of k ranks ``launch``es ``python -m candle_core.search.trial_job``
on its k processes, with the trial in the job's environment (``CANDLE_TRIAL_TASK``: base64 of
the pickled TrialTask, so that ranks on other hosts get it too). The job trains data-parallel
(``--comm``); its rank 0 (on the group leader's host) writes the finished trial to the result
file. The leader reads it back — or, when the job crashed or timed out, records the trial as
failed with the job's exit code. The job's output goes to ``trial_job.log`` in the run directory.
"""

from __future__ import annotations

import base64
import os
import pickle
import sys
from dataclasses import replace
from pathlib import Path

from candle_core.atomic import write_bytes_atomic
from candle_core.launch import TIMED_OUT, node_name
from candle_core.search.execute import (
    describe_exit,
    failed_trial,
    prepare_state,
    resolve_trial,
    run_trial,
    settle_state,
)
from candle_core.search.trial import Trial, TrialTask

TASK_VARIABLE = "CANDLE_TRIAL_TASK"
LOG_FILE = "trial_job.log"
RESULT_FILE = ".trial_result.pickle"


def job_command(result_file: Path) -> list[str]:
    return [sys.executable, "-m", "candle_core.search.trial_job", str(result_file)]


def job_environment(task: TrialTask) -> dict[str, str]:
    return {TASK_VARIABLE: base64.b64encode(pickle.dumps(task)).decode("ascii")}


def outcome(task: TrialTask, code: int, result_file: Path, log: Path, timeout: float | None) -> Trial:
    """The finished trial the job wrote, or a failed one saying how the job ended."""
    if code == 0 and result_file.exists():
        trial = pickle.loads(result_file.read_bytes())  # noqa: S301 — written by our own job just now
        result_file.unlink()
        return trial
    how = f"timed out after {timeout:g} s" if code == TIMED_OUT else describe_exit(code)
    return failed_trial(task, f"the trial's MPI job {how} (its output: {log})")


def main(result_file: str) -> int:
    from mpi4py import MPI

    task: TrialTask = pickle.loads(base64.b64decode(os.environ[TASK_VARIABLE]))  # noqa: S301 — from the evaluator
    rank = MPI.COMM_WORLD.Get_rank()
    run_dir = Path(resolve_trial(task)[2]["run_dir"])
    if rank == 0:
        prepare_state(task, run_dir)
    MPI.COMM_WORLD.Barrier()
    trial = run_trial(task, manage_state=False)
    nodes = MPI.COMM_WORLD.allgather(node_name())
    if rank == 0:  # where the job ran: its nodes, and its Slurm step when srun started it
        job = {"nodes": nodes, "slurm_step": os.environ.get("SLURM_STEP_ID")}
        trial = settle_state(task, replace(trial, results={**(trial.results or {}), "job": job}), run_dir)
        write_bytes_atomic(Path(result_file), pickle.dumps(trial))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

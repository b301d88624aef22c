"""The srun evaluator: inside a Slurm allocation, every trial is a job step of its own.

``candle submit --nodes N --ranks-per-node R -- candle search BENCH ... --evaluator srun``: the
driver runs in the batch script; each trial runs as ``srun`` on k free task slots of the
allocation (``--ranks-per-trial k``, default 1) as ``python -m candle_core.search.trial_job``
(one MPI job per trial, data-parallel when k > 1), so N × R / k trials run at once. Its output
goes to ``trial_job.log`` in the run directory; each trial's results record its nodes and step.

Unlike the MPI evaluator, a lost node takes only its own trials down. A step that ends with
Slurm's "Node failure on NODE" or "Task launch ... failed on node NODE", or whose node Slurm
then reports down or not responding, is a trial lost with its node: it comes back failed with
the error ``node lost: NODE``, the node is not used again, and the driver runs the trial again
(``--retries``). The job itself survives the loss when submitted with ``--no-kill`` (``candle
submit`` asks for it). Slurm notices a dead node after its SlurmdTimeout (300 s by default),
so that is how long a lost trial takes to be retried.

Steps start with ``--mpi=pmi2`` (MPICH); set ``CANDLE_SRUN_MPI`` for another (e.g. pmix).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from candle_core import hookimpl
from candle_core.contracts import Evaluator
from candle_core.errors import CandleError, warn_user
from candle_core.gpu_slots import GpuRequest
from candle_core.launch import TIMED_OUT, child_environment, srun_step_options
from candle_core.search import trial_job
from candle_core.search.execute import failed_trial, resolve_trial
from candle_core.search.trial import NODE_LOST, Trial, TrialTask

POLL_SECONDS = 0.1
KILL_GRACE_SECONDS = 10.0
# what srun prints when a node died under a step, or cannot start one
NODE_FAILURE = re.compile(r"Node failure on (\S+)|Task launch for \S+ failed on node (\S+):")
BAD_NODE_STATES = ("down", "drain", "fail", "not_responding", "unknown")


def tasks_per_node(text: str) -> list[int]:
    """Slurm's SLURM_TASKS_PER_NODE ("2(x3),1") as one count per node."""
    counts = []
    for part in text.split(","):
        match = re.fullmatch(r"(\d+)(?:\(x(\d+)\))?", part.strip())
        if not match:
            raise CandleError(f"SLURM_TASKS_PER_NODE={text!r}: not Slurm's format")
        counts += [int(match.group(1))] * int(match.group(2) or 1)
    return counts


def allocation_slots() -> dict[str, int]:
    """Node name → task slots of this Slurm allocation."""
    names = subprocess.run(
        ["scontrol", "show", "hostnames", os.environ["SLURM_JOB_NODELIST"]],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    counts = tasks_per_node(os.environ.get("SLURM_TASKS_PER_NODE", ",".join("1" for _ in names)))
    if len(counts) != len(names):
        raise CandleError(f"the allocation lists {len(names)} nodes but tasks for {len(counts)}")
    return dict(zip(names, counts, strict=True))


def node_is_down(node: str) -> bool:
    """Whether Slurm reports ``node`` down, drained, failing or not responding ("*")."""
    done = subprocess.run(["sinfo", "-h", "-N", "-n", node, "-o", "%T"], capture_output=True, text=True, timeout=60)
    state = done.stdout.strip().lower()
    return state.endswith("*") or any(word in state for word in BAD_NODE_STATES)


@dataclass
class _Step:
    task: TrialTask
    process: subprocess.Popen
    nodes: list[str]
    log: Path
    result: Path
    started: float


class SrunEvaluator(Evaluator):
    def __init__(
        self, workers: int, trial_timeout: float | None = None, ranks_per_trial: int = 1, gpus: GpuRequest | None = None
    ) -> None:
        if not os.environ.get("SLURM_JOB_ID") or shutil.which("srun") is None:
            raise CandleError(
                "the srun evaluator runs inside a Slurm allocation: candle submit --nodes N -- "
                "candle search ... --evaluator srun (or salloc, then the search)"
            )
        self.free = allocation_slots()
        self.ranks_per_trial = ranks_per_trial
        if ranks_per_trial < 1 or ranks_per_trial > sum(self.free.values()):
            raise CandleError(
                f"--ranks-per-trial {ranks_per_trial}: the allocation has {sum(self.free.values())} task slots"
            )
        self.trial_timeout = trial_timeout
        self.gpus_per_trial = (gpus.gpus_per_trial or 0) if gpus is not None else 0
        if gpus is not None and gpus.trials_per_gpu > 1:
            warn_user("--trials-per-gpu has no effect with the srun evaluator: each step gets whole GPUs")
        self.running: dict[int, _Step] = {}
        self.lost: set[str] = set()
        self._turn = 0
        if workers != self.workers:
            print(f"candle: the srun evaluator runs {self.workers} trials at once (the allocation's task slots)")

    @property
    def workers(self) -> int:
        """Trials at once: the task slots on nodes not lost, busy or free, over k."""
        busy = sum(len(step.nodes) for step in self.running.values())
        return (sum(self.free.values()) + busy) // self.ranks_per_trial

    def submit(self, task: TrialTask) -> None:
        nodes = self._take_slots()
        run_dir = Path(resolve_trial(task)[2]["run_dir"])
        run_dir.mkdir(parents=True, exist_ok=True)
        log, result = run_dir / trial_job.LOG_FILE, run_dir / trial_job.RESULT_FILE
        command = [
            *("srun", f"--job-name=trial{task.trial.id}", f"--ntasks={len(nodes)}", f"--nodelist={','.join(nodes)}"),
            *srun_step_options(),
            *([f"--gpus-per-task={self.gpus_per_trial}"] if self.gpus_per_trial else []),
            *trial_job.job_command(result),
        ]
        if self.ranks_per_trial > 1 and "--comm" not in task.argv:
            task = replace(task, argv=(*task.argv, "--comm", "ring"))
        environment = child_environment(os.environ) | trial_job.job_environment(task)
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env=environment, start_new_session=True
            )
        self.running[task.trial.id] = _Step(task, process, nodes, log, result, time.monotonic())

    def _take_slots(self) -> list[str]:
        """k task slots: on one node if one has them (taking the nodes in turn, so that trials
        spread over the allocation), else spread over several."""
        k = self.ranks_per_trial
        order = list(self.free)
        turn = order[self._turn % len(order) :] + order[: self._turn % len(order)] if order else []
        self._turn += 1
        single = next((node for node in turn if self.free[node] >= k), None)
        nodes = [single] * k if single else []
        for node, count in self.free.items():
            if single:
                break
            nodes += [node] * min(count, k - len(nodes))
        if len(nodes) < k:
            raise CandleError("the srun evaluator got a trial with no free task slots (a driver bug)")
        for node in nodes:
            self.free[node] -= 1
        return nodes

    def completed(self, timeout: float | None) -> Iterable[Trial]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.running:
            done = [self._finish(step) for step in list(self.running.values()) if self._ended(step)]
            if done or (deadline is not None and time.monotonic() >= deadline):
                return done
            time.sleep(POLL_SECONDS)
        return []

    def _ended(self, step: _Step) -> bool:
        if step.process.poll() is not None:
            return True
        if self.trial_timeout and time.monotonic() - step.started > self.trial_timeout:
            self._stop(step.process)
            return True
        return False

    def _finish(self, step: _Step) -> Trial:
        del self.running[step.task.trial.id]
        output = step.log.read_text(errors="replace") if step.log.exists() else ""
        failure = NODE_FAILURE.search(output)
        code = step.process.returncode
        if not step.result.exists():
            lost = [failure.group(1) or failure.group(2)] if failure else []
            lost = lost or [node for node in dict.fromkeys(step.nodes) if node_is_down(node)]
            if lost:
                self.lost.update(lost)
                for node in set(step.nodes) - self.lost:
                    self.free[node] += step.nodes.count(node)
                for node in lost:
                    self.free.pop(node, None)
                error = f"{NODE_LOST}: {', '.join(lost)} (Slurm: node failure); its output: {step.log}"
                return failed_trial(step.task, error)
        for node in step.nodes:
            if node in self.free:
                self.free[node] += 1
        timed_out = self.trial_timeout and time.monotonic() - step.started > self.trial_timeout
        return trial_job.outcome(step.task, TIMED_OUT if timed_out else code, step.result, step.log, self.trial_timeout)

    def _stop(self, process: subprocess.Popen) -> None:
        process.terminate()  # srun passes SIGTERM on to the step's tasks and ends the step
        try:
            process.wait(KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def shutdown(self) -> None:
        for step in self.running.values():
            self._stop(step.process)
        self.running.clear()


@hookimpl
def candle_evaluators():
    return {"srun": lambda: SrunEvaluator}

"""The MPI evaluator: ``mpiexec -n N candle search ... --evaluator mpi [--ranks-per-trial k]``.

Rank 0 runs the search driver; ranks 1 .. N-1 are workers, so N-1 trials run at once (the
``--workers`` option is ignored). No daemon, database server or shared Python state is
needed: rank 0 sends a trial to a free rank, the rank runs it in a child process of its own
fork server (the same isolation as the local evaluator: a trial that aborts or hangs is
recorded as failed and the rank lives on) and sends the finished trial back. Only rank 0
writes the results store.

With ``--ranks-per-trial k`` the workers form (N-1)/k groups of k consecutive ranks, and each
trial is a data-parallel run on one group: its ranks ``launch`` the trial as an MPI job of its
own on their k slots (``candle_core.search.trial_job``; ``--comm ring`` unless the run's
flags name another communicator) and sleep until it ends; a crashed job is a failed trial.
Each trial's results record its placement: the ranks that ran it and their nodes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from candle_core import hookimpl
from candle_core.contracts import Evaluator
from candle_core.cores import THREAD_VARIABLES
from candle_core.errors import CandleError
from candle_core.gpu_slots import GpuRequest
from candle_core.launch import launch, node_name
from candle_core.search import trial_job
from candle_core.search.execute import failed_trial, resolve_trial
from candle_core.search.trial import Trial, TrialTask
from candle_plugins.evaluators.local import LocalEvaluator

TASK, RESULT, STOP = 1, 2, 3
POLL_SECONDS = 0.002
STOP_CHECK_SECONDS = 0.5  # how often a rank running a trial checks whether the driver stops


class MPIEvaluator(Evaluator):
    def __init__(
        self, workers: int, trial_timeout: float | None = None, ranks_per_trial: int = 1, gpus: GpuRequest | None = None
    ) -> None:
        try:
            from mpi4py import MPI
        except ImportError as exc:
            raise CandleError(f"the mpi evaluator needs mpi4py ({exc}); pip install 'candle[mpi]'") from None
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD
        self.rank, size = self.comm.Get_rank(), self.comm.Get_size()
        if size < 2:
            raise CandleError(
                "the mpi evaluator runs under mpiexec with at least 2 ranks: rank 0 drives, "
                "the others run trials (mpiexec -n 3 candle search ... --evaluator mpi)"
            )
        k = self.ranks_per_trial = ranks_per_trial
        if k < 1 or (size - 1) % k:
            raise CandleError(
                f"--ranks-per-trial {k}: the {size - 1} worker ranks (all but rank 0) must form groups of {k}; "
                f"start 1 + a multiple of {k} ranks, e.g. mpiexec -n {1 + 2 * max(k, 1)}"
            )
        self.workers = (size - 1) // k
        self.trial_timeout = trial_timeout
        # the trial group of a worker rank (rank 0 alone in its own)
        self.group = self.comm.Split(0 if self.rank == 0 else 1 + (self.rank - 1) // k, self.rank)
        # trial ranks sharing this node share its cores
        node = self.comm.Split_type(MPI.COMM_TYPE_SHARED)
        trial_ranks = node.allgather(int(self.rank != 0))
        self.sharing = max(1, sum(trial_ranks))
        self.node_index = sum(trial_ranks[: node.Get_rank()])  # this rank's GPU slot on its node
        node.Free()
        self.gpus = gpus
        # where each trial of this group runs, recorded with its results: ranks and their nodes
        self.placement = {"ranks": self.group.allgather(self.rank), "nodes": self.group.allgather(node_name())}
        self.idle = list(range(1, size, k))  # group leaders
        self.busy: dict[int, int] = {}  # group leader -> trial id

    @property
    def is_worker(self) -> bool:
        return self.rank != 0

    # ------------------------------------------------------------------ rank 0
    def submit(self, task: TrialTask) -> None:
        leader = self.idle.pop(0)
        for rank in range(leader, leader + self.ranks_per_trial):
            self.comm.send(task, dest=rank, tag=TASK)
        self.busy[leader] = task.trial.id

    def completed(self, timeout: float | None) -> Iterable[Trial]:
        status = self.MPI.Status()
        deadline = None if timeout is None else time.monotonic() + timeout
        done = []
        while self.busy:
            while self.comm.Iprobe(source=self.MPI.ANY_SOURCE, tag=RESULT, status=status):
                rank = status.Get_source()
                done.append(self.comm.recv(source=rank, tag=RESULT))
                del self.busy[rank]
                self.idle.append(rank)
            if done or (deadline is not None and time.monotonic() >= deadline):
                break
            time.sleep(POLL_SECONDS)
        return done

    def shutdown(self) -> None:
        if self.rank != 0:
            return
        for rank in range(1, self.comm.Get_size()):
            self.comm.send(None, dest=rank, tag=STOP)

    # ------------------------------------------------------------------ ranks 1 .. N-1
    def serve(self) -> None:
        """Run trials sent by rank 0 until it says stop."""

        local = LocalEvaluator(1, self.trial_timeout, self.sharing, gpus=self.gpus, first_slot=self.node_index)
        status = self.MPI.Status()
        while True:
            # wait without spinning: MPICH's blocking receive busy-polls, taking a core from the trials
            while not self.comm.Iprobe(source=0, tag=self.MPI.ANY_TAG, status=status):
                time.sleep(POLL_SECONDS)
            task = self.comm.recv(source=0, tag=status.Get_tag())
            if status.Get_tag() == STOP:
                break
            if self.ranks_per_trial == 1:
                local.submit(task)
                finished: list[Trial] = []
                while not finished:
                    finished = list(local.completed(timeout=STOP_CHECK_SECONDS))
                    if not finished and self.comm.Iprobe(source=0, tag=STOP):
                        break  # the driver stops early (the walltime): the trial ends unfinished
                if not finished:
                    self.comm.recv(source=0, tag=STOP)
                    break
                trial = finished[0]
            else:
                trial = self._run_on_group(task)
            if self.group.Get_rank() == 0:
                trial = replace(trial, results={**(trial.results or {}), "placement": self.placement})
                self.comm.send(trial, dest=0, tag=RESULT)
        local.shutdown()

    def _run_on_group(self, task: TrialTask) -> Trial:
        """Run the trial as a data-parallel MPI job on this rank's group (collective over it)."""

        if "--comm" not in task.argv:
            task = replace(task, argv=(*task.argv, "--comm", "ring"))
        try:  # every rank of the group resolves the same parameters, so all fail alike or none
            run_dir = Path(resolve_trial(task)[2]["run_dir"])
        except CandleError as exc:
            return failed_trial(task, "; ".join(exc.messages))
        run_dir.mkdir(parents=True, exist_ok=True)
        log, result = run_dir / trial_job.LOG_FILE, run_dir / trial_job.RESULT_FILE
        threads = str(max(1, (os.cpu_count() or 1) // self.sharing))
        environment = trial_job.job_environment(task) | {name: threads for name in THREAD_VARIABLES}
        command = trial_job.job_command(result)
        code = launch(command, self.group, timeout=self.trial_timeout, output=log, env=environment)
        return trial_job.outcome(task, code, result, log, self.trial_timeout)


@hookimpl
def candle_evaluators():
    return {"mpi": lambda: MPIEvaluator}

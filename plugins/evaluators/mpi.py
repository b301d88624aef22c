"""The MPI evaluator: ``mpiexec -n N candle search ... --evaluator mpi``.

Rank 0 runs the search driver; ranks 1 .. N-1 are workers, so N-1 trials run at once (the
``--workers`` option is ignored). No daemon, database server or shared Python state is
needed: rank 0 sends a trial to a free rank, the rank runs it in a child process of its own
fork server (the same isolation as the local evaluator: a trial that aborts or hangs is
recorded as failed and the rank lives on) and sends the finished trial back. Only rank 0
writes the results store.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from candle_core import hookimpl
from candle_core.errors import CandleError
from candle_core.search.execute import TrialTask
from candle_core.search.trial import Evaluator, Trial

TASK, RESULT, STOP = 1, 2, 3
POLL_SECONDS = 0.002


class MPIEvaluator(Evaluator):
    def __init__(self, workers: int, trial_timeout: float | None = None) -> None:
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
        self.workers = size - 1
        self.trial_timeout = trial_timeout
        # trial ranks sharing this node share its cores
        node = self.comm.Split_type(MPI.COMM_TYPE_SHARED)
        self.sharing = max(1, node.allreduce(int(self.rank != 0)))
        node.Free()
        self.idle = list(range(1, size))
        self.busy: dict[int, int] = {}  # rank -> trial id

    @property
    def is_worker(self) -> bool:
        return self.rank != 0

    # ------------------------------------------------------------------ rank 0
    def submit(self, task: TrialTask) -> None:
        rank = self.idle.pop(0)
        self.comm.send(task, dest=rank, tag=TASK)
        self.busy[rank] = task.trial.id

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
        from candle_plugins.evaluators.local import LocalEvaluator

        local = LocalEvaluator(1, self.trial_timeout, self.sharing)
        status = self.MPI.Status()
        while True:
            # wait without spinning: MPICH's blocking receive busy-polls, taking a core from the trials
            while not self.comm.Iprobe(source=0, tag=self.MPI.ANY_TAG, status=status):
                time.sleep(POLL_SECONDS)
            task = self.comm.recv(source=0, tag=status.Get_tag())
            if status.Get_tag() == STOP:
                break
            local.submit(task)
            finished: list[Trial] = []
            while not finished:
                finished = list(local.completed(timeout=None))
            self.comm.send(finished[0], dest=0, tag=RESULT)
        local.shutdown()


@hookimpl
def candle_evaluators():
    return {"mpi": lambda: MPIEvaluator}

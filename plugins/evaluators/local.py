"""The local evaluator: each trial in its own process, ``workers`` at once, on this machine.

Processes come from a fork server that has already imported candle, so starting a trial costs
milliseconds; each trial gets cores / workers threads (OMP_NUM_THREADS and friends, unless set);
and a trial that crashes — Python exception, ``os.abort``, a kill by the OOM
killer — or outlives ``trial_timeout`` is recorded as failed with its reason while the search
goes on. GPUs are handed to trials by slot (``candle_core.gpu_slots``): a trial starts with its
slot's CUDA_VISIBLE_DEVICES and sees no other trial's GPU.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterable
from multiprocessing.connection import wait

from candle_core import hookimpl
from candle_core.contracts import Evaluator
from candle_core.cores import share_cores
from candle_core.errors import CandleError
from candle_core.gpu_slots import GpuRequest, GpuSlot
from candle_core.search.execute import describe_exit, run_trial
from candle_core.search.trial import Trial, TrialTask
from candle_core.status import TrialStatus

DRIVER_CHECK_SECONDS = 1.0


def _die_with_driver(driver: int) -> None:
    """End this trial process when the driver that submitted it dies (a SIGKILLed driver leaves
    no trial running): a watcher thread checks every second that the driver process still
    exists. The trial's parent is the fork server, so the kernel's parent-death signal cannot tell."""

    def watch() -> None:
        while True:
            time.sleep(DRIVER_CHECK_SECONDS)
            try:
                os.kill(driver, 0)
            except ProcessLookupError:
                os.kill(os.getpid(), signal.SIGKILL)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="candle-driver-watch", daemon=True).start()


def _child(task: TrialTask, connection, workers: int, environment: dict[str, str], driver: int) -> None:
    _die_with_driver(driver)
    os.environ.update(environment)  # before any framework touches a GPU
    share_cores(workers)
    connection.send(run_trial(task))
    connection.close()


class LocalEvaluator(Evaluator):
    def __init__(
        self,
        workers: int,
        trial_timeout: float | None = None,
        sharing: int | None = None,
        ranks_per_trial: int = 1,
        gpus: GpuRequest | None = None,
        first_slot: int = 0,
    ) -> None:
        if ranks_per_trial != 1:
            raise CandleError(
                f"--ranks-per-trial {ranks_per_trial}: multi-rank trials run on MPI ranks; use mpiexec -n "
                f"{1 + 2 * ranks_per_trial} candle search ... --evaluator mpi --ranks-per-trial {ranks_per_trial}"
            )
        self.workers = workers
        self.sharing = sharing or workers  # trials that share this node's cores
        self.trial_timeout = trial_timeout if trial_timeout and trial_timeout > 0 else None
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["candle_core.search.preload"])
        self.running: dict = {}  # receiving connection -> (process, trial, deadline, GPU slot)
        self.gpus = gpus or GpuRequest()
        node_slots = self.gpus.node_slots()
        self.free_slots: list[GpuSlot] = node_slots[first_slot : first_slot + workers]
        if node_slots and len(self.free_slots) < workers:
            raise CandleError(
                f"{first_slot + workers} trials at once on this node, but it has {len(node_slots)} GPU slot(s) for "
                f"trials ({len(node_slots) // self.gpus.trials_per_gpu} GPU group(s) x --trials-per-gpu "
                f"{self.gpus.trials_per_gpu}); run fewer workers per node or pack more with --trials-per-gpu"
            )

    def submit(self, task: TrialTask) -> None:
        slot = self.free_slots.pop(0) if self.free_slots else None
        environment = self.gpus.trial_environment(slot)
        receiver, sender = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=_child, args=(task, sender, self.sharing, environment, os.getpid()), daemon=True
        )
        process.start()
        sender.close()
        deadline = time.monotonic() + self.trial_timeout if self.trial_timeout else None
        self.running[receiver] = (process, task.trial, deadline, slot)

    def completed(self, timeout: float | None) -> Iterable[Trial]:
        if not self.running:
            return []
        deadlines = [d for _, _, d, _ in self.running.values() if d is not None]
        if deadlines:
            until_deadline = max(0.0, min(deadlines) - time.monotonic())
            timeout = until_deadline if timeout is None else min(timeout, until_deadline)
        # a connection is ready when the trial sent its result or its process died (end of file)
        ready = set(wait(list(self.running), timeout))
        done = []
        now = time.monotonic()
        for receiver in list(self.running):
            process, trial, deadline, slot = self.running[receiver]
            if receiver in ready:
                done.append(self._collect(process, receiver, trial))
            elif deadline is not None and now >= deadline:
                process.kill()
                process.join()
                receiver.close()
                error = f"timeout: killed after {self.trial_timeout:g} s"
                done.append(Trial(trial.id, trial.params, status=TrialStatus.FAILED, error=error, label=trial.label))
            else:
                continue
            del self.running[receiver]
            if slot is not None:
                self.free_slots.append(slot)
        return done

    def _collect(self, process, receiver, trial: Trial) -> Trial:
        try:
            result = receiver.recv()
        except (EOFError, OSError):
            result = None
        receiver.close()
        process.join()
        if result is None:
            error = f"trial process {describe_exit(process.exitcode)}"
            return Trial(trial.id, trial.params, status=TrialStatus.FAILED, error=error, label=trial.label)
        return result

    def shutdown(self) -> None:
        for receiver, (process, *_) in self.running.items():
            process.kill()
            process.join()
            receiver.close()
        self.running.clear()


@hookimpl
def candle_evaluators():
    return {"local": lambda: LocalEvaluator}

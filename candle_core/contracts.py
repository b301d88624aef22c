"""The contracts a plugin implements, in one place: training backends, communicators, search
algorithms, evaluators, container runtimes and extra ``candle`` commands.

The naming hooks (``hookspecs``) return ``{name: factory}`` mappings whose factories give these
classes; ``plugin_manager.component`` looks them up. Everything here is abstract or a default
that most implementations keep; the shared machinery lives with its user (``training``,
``comm``, ``search.driver``, ``candle_containers.runtimes``).
"""

from __future__ import annotations

import abc
import argparse
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from candle_core.comm import DEFAULT_TIMEOUT
from candle_core.device import GPU
from candle_core.errors import CandleError, warn_user
from candle_core.launch import launch
from candle_core.model import ModelSpec
from candle_core.objective import Objective
from candle_core.parameters.keyword import Bounds, Keyword
from candle_core.search.space import SearchSpace
from candle_core.search.trial import Proposal, Trial, TrialTask
from candle_core.status import TrialStatus


# --------------------------------------------------------------------------- training backends
class GradientSync(Protocol):
    """What a data-parallel run hands a backend (``candle_core.data_parallel.DataParallel``)."""

    @property
    def device_memory(self) -> bool:
        """True: average_gradients also takes the framework's device tensors."""

    def average_gradients(self, gradients: list[Any]) -> None:
        """Average the buffers across ranks, in place (numpy arrays; device tensors when
        ``device_memory``)."""


class Backend(abc.ABC):
    """A framework that realizes ``ModelSpec`` networks and trains them one epoch at a time."""

    name: str = ""

    @abc.abstractmethod
    def build(
        self,
        spec: ModelSpec,
        weights: list[dict[str, np.ndarray]] | None,
        precision: str,
        seed: int,
        sync: GradientSync | None = None,
        device: str = "cpu",
    ) -> Any:
        """Realize ``spec`` with its optimizer on ``device`` (``"cpu"`` or ``"cuda:N"``, chosen
        by ``candle_core.device``). ``weights`` (Keras layout, from ``candle_core.initializers``)
        are loaded when given; ``seed`` seeds the framework's own random numbers (dropout);
        ``precision`` is one of ``candle_core.device.PRECISIONS``. ``sync`` (data-parallel
        training): every step, after the backward pass and before clipping and the optimizer
        step, ``sync.average_gradients`` averages the gradients across ranks in place — numpy
        arrays (device gradients staged through host memory), or the device tensors themselves
        when ``sync.device_memory``. Returns the backend's model object."""

    def gpus(self) -> list[GPU]:
        """The GPUs this backend's framework can use here (none by default)."""
        return []

    def framework(self) -> str:
        """The framework and version this backend runs on (``candle env``)."""
        return ""

    @abc.abstractmethod
    def layer_table(self, model: Any) -> list[tuple[str, str, int]]:
        """(layer name, output shape, parameter count) per layer, as the framework sees them."""

    @abc.abstractmethod
    def train_epoch(
        self,
        model: Any,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        order: np.ndarray,
        on_batch: Callable[[], None],
    ) -> dict[str, float]:
        """Train one pass over ``x[order]`` in batches; return the mean training loss and metrics."""

    @abc.abstractmethod
    def predict(
        self, model: Any, x: np.ndarray, batch_size: int, monte_carlo: bool = False, layer: int | None = None
    ) -> np.ndarray:
        """Predictions in inference mode (PermanentDropout stays active anyway; ``monte_carlo``:
        every dropout layer and a VAE's sampling too). ``layer``: the output of the network's
        layer of that index instead (an embedding), in inference mode."""

    def predict_samples(self, model: Any, x: np.ndarray, batch_size: int, samples: int) -> np.ndarray:
        """``samples`` Monte-Carlo predictions of every row, stacked: (samples, rows, ...).
        Backends that can draw several samples in one pass on the device override this."""
        return np.stack([self.predict(model, x, batch_size, monte_carlo=True) for _ in range(samples)])

    @abc.abstractmethod
    def get_learning_rate(self, model: Any) -> float:
        """The optimizer's current base learning rate."""

    @abc.abstractmethod
    def set_learning_rate(self, model: Any, value: float) -> None:
        """Change the optimizer's base learning rate (ReduceLROnPlateau)."""

    @abc.abstractmethod
    def get_weights(self, model: Any) -> list[np.ndarray]:
        """All weights, in layer order."""

    @abc.abstractmethod
    def set_weights(self, model: Any, weights: list[np.ndarray]) -> None:
        """Load arrays shaped and ordered as ``get_weights`` returns them."""

    @abc.abstractmethod
    def save(self, model: Any, directory: Path, include_optimizer: bool = True) -> None:
        """Write weights (and optimizer and random state) as files into an existing, empty directory."""

    @abc.abstractmethod
    def load(self, model: Any, directory: Path) -> None:
        """Restore what ``save`` wrote, loading safely (no arbitrary code from the files)."""

    def graph(self, model: Any, input_shape: tuple[int, ...]) -> Any | None:
        """The model as a ``GraphDef`` protocol buffer for TensorBoard's Graphs tab (the training
        loop asks once, before the first epoch); None where the framework offers none."""
        return None

    def profiler(self, model: Any, folder: Path) -> AbstractContextManager[Any]:
        """A context manager that profiles what runs inside it with the framework's profiler and
        writes the trace into ``folder`` (``profiling``: the first epoch trained). Backends
        without a profiler keep this default, which says so and profiles nothing."""
        warn_user(f"profiling: backend {self.name} has no profiler; nothing is profiled")
        return nullcontext()


# --------------------------------------------------------------------------- communication
class Communicator(abc.ABC):
    """Collectives on numpy buffers across the ranks of one job, plus sub-job launching.

    ``timeout``: the seconds a collective waits for its peers before raising ``PeerLost``
    (a dead or hung peer makes the others fail in bounded time instead of hanging).
    """

    name: str = ""
    rank: int
    size: int
    timeout: float = DEFAULT_TIMEOUT
    device_memory: bool = False  # True: allreduce/broadcast also take torch tensors on a GPU

    @abc.abstractmethod
    def allreduce(self, buffers: Sequence[np.ndarray], op: str = "sum") -> None:
        """Reduce every buffer across ranks, in place (``op``: sum or average)."""

    @abc.abstractmethod
    def broadcast(self, buffers: Sequence[np.ndarray], root: int = 0) -> None:
        """Copy ``root``'s buffers into every rank's, in place."""

    @abc.abstractmethod
    def barrier(self) -> None:
        """Wait until every rank gets here."""

    def use_device(self, device: str) -> None:
        """Called once, before the first collective, with this rank's device (``"cpu"`` or
        ``"cuda:N"``); a communicator that moves device memory binds to it. Others ignore it."""
        return None

    def launch(self, command: Sequence[str], **options) -> int:
        """Run ``command`` as a new MPI job on this communicator's processes; see ``candle_core.launch``."""

        return launch(command, self.mpi_comm, **options)

    def local_size(self) -> int:
        """How many of the ranks run on this rank's node (they share its cores)."""
        from mpi4py import MPI

        node = self.mpi_comm.Split_type(MPI.COMM_TYPE_SHARED)
        size = node.Get_size()
        node.Free()
        return size

    @property
    def mpi_comm(self):
        """The mpi4py communicator spanning the same processes."""
        from mpi4py import MPI

        return MPI.COMM_WORLD


# --------------------------------------------------------------------------- search
class SearchAlgorithm(abc.ABC):
    """Ask for parameter sets, tell the finished trials. Subclasses keep all their state in what
    they were told, so that a resumed search only needs the finished trials told again."""

    def __init__(
        self,
        space: SearchSpace,
        objective: Objective,
        seed: int,
        budget: int,
        workers: int,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.space, self.objective, self.budget, self.workers = space, objective, budget, workers
        self.options = dict(options or {})
        self.rng = np.random.default_rng(seed)
        self.told: list[Trial] = []

    @abc.abstractmethod
    def ask(self, n: int) -> list[dict[str, Any] | Proposal]:
        """Up to ``n`` new parameter sets (or Proposals); fewer, even none, while waiting for results."""

    def option(self, name: str, default: Any, kind: type, bounds: str | None = None) -> Any:
        """The ``--option name=value`` setting (else ``default``) as ``kind`` within ``bounds``
        (an interval such as ``"[1, inf)"``); a CandleError names the option otherwise."""
        if name not in self.options:
            return default
        keyword = Keyword(name, kind, bounds=None if bounds is None else Bounds.parse(bounds, f"option {name}"))
        try:
            return keyword.coerce(self.options[name], from_text=isinstance(self.options[name], str))
        except ValueError as exc:
            raise CandleError(f"--option {name}={self.options[name]}: expected {exc}") from None

    def tell(self, trial: Trial) -> None:
        self.told.append(trial)

    @property
    def exhausted(self) -> bool:
        """True when the algorithm has nothing more to propose (a finished grid)."""
        return False

    def protected(self) -> set[int]:
        """Ids of finished trials this algorithm may still continue from (kept by the model cache)."""
        return set()

    def scored(self) -> list[tuple[dict[str, Any], float]]:
        """(parameters, loss to minimize) of the successful trials told so far."""
        return [
            (t.params, self.objective.loss(t.objective))
            for t in self.told
            if t.status == TrialStatus.OK and t.objective is not None
        ]


class Evaluator(abc.ABC):
    """Runs trials somewhere (local processes, MPI ranks, Slurm job steps) and hands them back
    when done."""

    workers: int  # trials at once; the driver reads it before starting trials (it may shrink)

    @abc.abstractmethod
    def submit(self, task: TrialTask) -> None:
        """Start a trial (the driver keeps at most ``workers`` running)."""

    @abc.abstractmethod
    def completed(self, timeout: float | None) -> Iterable[Trial]:
        """Trials that finished (status ok or failed), waiting up to ``timeout`` seconds for one."""

    @abc.abstractmethod
    def shutdown(self) -> None:
        """Stop every running trial and free the workers."""


# --------------------------------------------------------------------------- containers
class Runtime(abc.ABC):
    """A container runtime: builds images from recipes and runs commands inside them."""

    name: str = ""
    executable: str = ""
    gpu_flags: tuple[str, ...] = ()  # exec options that give the container the host's NVIDIA GPUs

    def available(self) -> bool:
        return shutil.which(self.executable) is not None

    @abc.abstractmethod
    def build_command(self, context: Path, recipe: Path, tag: str) -> list[str]:
        """The command that builds ``recipe`` (inside ``context``) into image ``tag``."""

    @abc.abstractmethod
    def exec_command(
        self,
        image: str,
        command: Sequence[str],
        binds: Sequence[Path],
        env: Mapping[str, str],
        workdir: Path,
        gpu: bool = False,
    ) -> list[str]:
        """The command that runs ``command`` inside ``image`` (``gpu``: with the host's GPUs)."""

    def gpu_note(self) -> str | None:
        """What the user must do instead when the runtime has no exec flag for GPUs (or None)."""
        return None

    def environment(self) -> dict[str, str]:
        """The runtime's own environment (for its build and exec commands)."""
        return dict(os.environ)

    def process_environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """The environment the runtime process starts with so that the container gets ``env``
        (most runtimes: the values themselves, named on the command line by ``variables``)."""
        return self.environment() | dict(env)

    def prepare_exec(self, env: dict[str, str]) -> None:
        """Adjust this process (about to become the runtime) and ``env`` before ``exec_command``."""
        return  # most runtimes pass the environment and descriptors through as they are

    def runnable(self, image: str) -> str:
        """What ``exec_command`` should run for ``image`` (most runtimes: the image itself)."""
        return image

    def build(self, context: Path, recipe: Path, tag: str) -> None:
        command = self.build_command(context, recipe, tag)
        done = subprocess.run(command, cwd=context, env=self.environment())
        if done.returncode != 0:
            raise CandleError(f"{self.name} build failed (exit {done.returncode}): {' '.join(command)}")


# --------------------------------------------------------------------------- commands
class Command(abc.ABC):
    """An extra ``candle`` sub-command a plugin adds (hook ``candle_commands``)."""

    help: str = ""

    @abc.abstractmethod
    def add_options(self, parser: argparse.ArgumentParser) -> None:
        """Add the command's options to its sub-parser."""

    @abc.abstractmethod
    def run(self, args: argparse.Namespace, rest: Sequence[str]) -> int:
        """Run with the parsed options (``rest``: the words the parser left); return the exit status."""

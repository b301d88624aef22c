"""Data-parallel training: what the core's training loop does differently on several ranks.

``mpiexec -n P candle run BENCH --comm ring`` (or mpi, horovod) starts P copies of one run.
Every rank builds the same model; rank 0's initial (or restored) weights are broadcast; each
training step, each rank takes its own equal share of one global batch of ``batch_size × P``
samples (the global order is the same on all ranks, seeded as in a single process) and the
gradients are averaged across ranks before the optimizer step, so P ranks take the steps a
single process would take with a batch P times larger. To keep the shares equal, the last,
short global batch of an epoch is cut to a multiple of P (at most P-1 samples, a different few
each epoch, sit out). Training metrics are averaged and validation predictions gathered across
ranks, so every rank sees the same metrics and makes the same stop decisions. Only rank 0 writes
(checkpoints, history, results, plots) and shows progress bars.

Learning-rate rule: candle does not scale it. Each step sees P times more samples than in one
process with the same ``batch_size``; to reproduce a single-process run, give each rank
``batch_size / P``; to train faster with a larger global batch, scale the learning rate
yourself (the linear rule, lr × P, with a few epochs of warm-up, is the usual choice).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from candle_core.contracts import Communicator
from candle_core.cores import share_cores
from candle_core.errors import CandleError
from candle_core.launch import launched_ranks


class DataParallel:
    """One rank's view of a data-parallel run over ``communicator``."""

    def __init__(self, communicator: Communicator) -> None:
        self.communicator = communicator
        self.rank, self.size = communicator.rank, communicator.size

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def shard(self, order: np.ndarray, batch_size: int) -> np.ndarray:
        """This rank's indices of an epoch's global ``order``: its share of each global batch,
        so that consecutive runs of ``batch_size`` indices are its batches."""
        step = batch_size * self.size
        parts = []
        for start in range(0, len(order), step):
            batch = order[start : start + step]
            share = len(batch) // self.size
            parts.append(batch[self.rank * share : (self.rank + 1) * share])
        return np.concatenate(parts)

    @property
    def device_memory(self) -> bool:
        """Whether the communicator reduces the framework's device tensors itself (``nccl``)."""
        return self.communicator.device_memory

    def average_gradients(self, gradients: list[Any]) -> None:
        """Average gradients across ranks, in place (called by backends between backward and step)."""
        self.communicator.allreduce(gradients, op="average")

    def broadcast(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Rank 0's arrays on every rank (as contiguous copies)."""
        arrays = [np.ascontiguousarray(a).copy() for a in arrays]
        self.communicator.broadcast(arrays, root=0)
        return arrays

    def mean_metrics(self, metrics: Mapping[str, float]) -> dict[str, float]:
        """Per-rank training metrics averaged over ranks (equal shares: the global means)."""
        names = sorted(metrics)
        values = np.array([metrics[name] for name in names], dtype=np.float64)
        self.communicator.allreduce([values], op="average")
        return dict(zip(names, values.tolist(), strict=True))

    def rows(self, count: int) -> slice:
        """This rank's block of ``count`` rows (validation and test predictions)."""
        bounds = np.linspace(0, count, self.size + 1).astype(int)
        return slice(bounds[self.rank], bounds[self.rank + 1])

    def gather_rows(self, part: np.ndarray, count: int) -> np.ndarray:
        """Every rank's block of rows (see ``rows``) assembled on every rank."""
        whole = np.zeros((count, *part.shape[1:]), dtype=part.dtype)
        whole[self.rows(count)] = part
        self.communicator.allreduce([whole], op="sum")
        return whole

    def same_on_all(self, value: int) -> int:
        """Rank 0's integer (a decision such as 'stop now') on every rank."""
        return int(self.broadcast([np.array([value], dtype=np.int64)])[0][0])

    def check_same(self, value: int, what: str) -> None:
        """Fail on every rank when a rank's ``value`` differs from rank 0's."""
        expected = self.same_on_all(value)
        differing = np.array([int(value != expected)], dtype=np.int64)
        self.communicator.allreduce([differing], op="sum")
        if differing[0]:
            raise CandleError(
                f"data-parallel run: {int(differing[0])} rank(s) disagree with rank 0 on {what} "
                f"(rank 0: {expected}, rank {self.rank}: {value})"
            )


def open_data_parallel(params: Mapping[str, Any], plugin_manager: Any, device: str = "cpu") -> DataParallel | None:
    """The run's DataParallel when ``comm`` names a communicator, else None (one process).
    ``device``: this rank's device, which the communicator binds to before its first collective."""
    name = str(params.get("comm") or "none")
    if name == "none":
        return None
    communicator = plugin_manager.component("comm", name)()
    communicator.use_device(device)
    communicator.timeout = float(params.get("comm_timeout") or communicator.timeout)
    compression = params.get("comm_compression") or "none"
    if compression != "none":
        if not hasattr(communicator, "compression"):
            raise CandleError(f"comm_compression {compression}: the {name} communicator cannot compress")
        communicator.compression = compression
    share_cores(communicator.local_size())
    return DataParallel(communicator)


def refuse_lone_ranks(params: Mapping[str, Any]) -> None:
    """Refuse a run started by an MPI launcher on several ranks without ``comm``: the copies
    would each train alone and write the same run directory."""
    ranks = launched_ranks()
    if ranks > 1 and str(params.get("comm") or "none") == "none":
        raise CandleError(
            f"started on {ranks} MPI ranks but --comm is none: every rank would train alone and write "
            "the same run directory; pass --comm ring (or mpi, horovod) for data-parallel training"
        )

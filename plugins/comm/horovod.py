"""The ``horovod`` communicator: Horovod's fused allreduce and broadcast (PyTorch build).

Buffers are shared with torch tensors (no copy), reduced by ``grouped_allreduce_`` (Horovod's
tensor fusion and its MPI or Gloo controller). The ranks' buffers are compared first through
mpi4py, as for the other communicators, so a mismatch or a dead peer fails the same way.
Build Horovod with ``bash recipes/install_horovod.sh``; it is broken upstream for TensorFlow
>= 2.16 / Keras 3, so only the torch backend trains through it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from candle_core.comm import agree, check_op, wait
from candle_core.contracts import Communicator
from candle_core.errors import CandleError


class HorovodCommunicator(Communicator):
    name = "horovod"

    def __init__(self) -> None:
        try:
            import horovod.torch as hvd
            import torch
        except ImportError as exc:
            raise CandleError(
                f"the horovod communicator needs Horovod built for PyTorch ({exc}); "
                "build it with: bash recipes/install_horovod.sh"
            ) from None
        from mpi4py import MPI

        hvd.init()
        self.hvd, self.torch, self.MPI = hvd, torch, MPI
        self.rank, self.size = hvd.rank(), hvd.size()

    def allreduce(self, buffers: Sequence[np.ndarray], op: str = "sum") -> None:
        check_op(op)
        agree(self.mpi_comm, buffers, "horovod allreduce", self.timeout)
        if op == "average" and any(not np.issubdtype(b.dtype, np.floating) for b in buffers):
            raise CandleError("horovod allreduce: 'average' needs floating-point buffers")
        tensors = [self.torch.from_numpy(b) for b in buffers]
        self.hvd.grouped_allreduce_(tensors, op=self.hvd.Average if op == "average" else self.hvd.Sum)

    def broadcast(self, buffers: Sequence[np.ndarray], root: int = 0) -> None:
        agree(self.mpi_comm, buffers, "horovod broadcast", self.timeout)
        for buffer in buffers:
            self.hvd.broadcast_(self.torch.from_numpy(buffer), root_rank=root)

    def barrier(self) -> None:
        wait([self.mpi_comm.Ibarrier()], self.timeout, "horovod barrier", self.rank)

"""The ``mpi`` communicator: mpi4py's Allreduce and Bcast on numpy buffers, in place."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from candle_core import hookimpl
from candle_core.comm import Communicator, agree, check_op
from candle_core.errors import CandleError


class MPICommunicator(Communicator):
    name = "mpi"

    def __init__(self, mpi_comm=None) -> None:
        from mpi4py import MPI

        self.MPI = MPI
        self.comm = mpi_comm if mpi_comm is not None else MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()

    def _prepare(self, buffers: Sequence[np.ndarray], op: str) -> None:
        check_op(op)
        agree(self.comm, buffers, f"{self.name} allreduce")
        if op == "average" and any(not np.issubdtype(b.dtype, np.floating) for b in buffers):
            raise CandleError(f"{self.name} allreduce: 'average' needs floating-point buffers")

    def allreduce(self, buffers: Sequence[np.ndarray], op: str = "sum") -> None:
        self._prepare(buffers, op)
        for buffer in buffers:
            self.comm.Allreduce(self.MPI.IN_PLACE, buffer, op=self.MPI.SUM)
            if op == "average":
                buffer /= self.size

    def broadcast(self, buffers: Sequence[np.ndarray], root: int = 0) -> None:
        agree(self.comm, buffers, f"{self.name} broadcast")
        for buffer in buffers:
            self.comm.Bcast(buffer, root=root)

    def barrier(self) -> None:
        self.comm.Barrier()


def _mpi():
    return MPICommunicator()


def _ring():
    from candle_plugins.comm.ring import RingCommunicator

    return RingCommunicator()


@hookimpl
def candle_communicators():
    return {"mpi": _mpi, "ring": _ring}

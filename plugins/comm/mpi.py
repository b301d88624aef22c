"""The ``mpi`` communicator: mpi4py's Allreduce and Bcast on numpy buffers, in place."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from candle_core.comm import agree, check_op, wait
from candle_core.contracts import Communicator
from candle_core.errors import CandleError


class MPICommunicator(Communicator):
    name = "mpi"

    def __init__(self, mpi_comm=None) -> None:
        from mpi4py import MPI

        self.MPI = MPI
        self.comm = mpi_comm if mpi_comm is not None else MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()

    @property
    def mpi_comm(self):
        return self.comm

    def _wait(self, requests: list, what: str) -> None:
        wait(requests, self.timeout, f"{self.name} {what}", self.rank)

    def _prepare(self, buffers: Sequence[np.ndarray], op: str) -> None:
        check_op(op)
        agree(self.comm, buffers, f"{self.name} allreduce", self.timeout)
        if op == "average" and any(not np.issubdtype(b.dtype, np.floating) for b in buffers):
            raise CandleError(f"{self.name} allreduce: 'average' needs floating-point buffers")

    def allreduce(self, buffers: Sequence[np.ndarray], op: str = "sum") -> None:
        self._prepare(buffers, op)
        self._wait([self.comm.Iallreduce(self.MPI.IN_PLACE, b, op=self.MPI.SUM) for b in buffers], "allreduce")
        if op == "average":
            for buffer in buffers:
                buffer /= self.size

    def broadcast(self, buffers: Sequence[np.ndarray], root: int = 0) -> None:
        agree(self.comm, buffers, f"{self.name} broadcast", self.timeout)
        self._wait([self.comm.Ibcast(buffer, root=root) for buffer in buffers], "broadcast")

    def barrier(self) -> None:
        self._wait([self.comm.Ibarrier()], "barrier")

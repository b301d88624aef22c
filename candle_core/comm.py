"""Communicators: what data-parallel training and sub-job launching need from MPI-like layers.

A communicator reduces and broadcasts lists of numpy arrays in place. Every implementation
checks, before it moves data, that all ranks passed buffers of the same sizes and types, so a
mismatch is the same clear error on every rank instead of a hang or garbage.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Sequence

import numpy as np

from candle_core.errors import CandleError

OPS = ("sum", "average")


class Communicator(abc.ABC):
    name: str = ""
    rank: int
    size: int

    @abc.abstractmethod
    def allreduce(self, buffers: Sequence[np.ndarray], op: str = "sum") -> None:
        """Reduce every buffer across ranks, in place (``op``: sum or average)."""

    @abc.abstractmethod
    def broadcast(self, buffers: Sequence[np.ndarray], root: int = 0) -> None:
        """Copy ``root``'s buffers into every rank's, in place."""

    @abc.abstractmethod
    def barrier(self) -> None:
        """Wait until every rank gets here."""


def check_op(op: str) -> None:
    if op not in OPS:
        raise CandleError(f"allreduce op '{op}' is not one of {', '.join(OPS)}")


def signature(buffers: Sequence[np.ndarray]) -> np.ndarray:
    """What every rank must agree on: buffer count, total elements, a hash of sizes and types,
    and whether all buffers are C-contiguous."""
    text = ",".join(f"{b.size}:{b.dtype.str}" for b in buffers)
    digest = int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "little")
    contiguous = all(b.flags.c_contiguous for b in buffers)
    return np.array([len(buffers), sum(b.size for b in buffers), digest, contiguous], dtype=np.int64)


def agree(mpi_comm, buffers: Sequence[np.ndarray], what: str) -> None:
    """Raise the same CandleError on every rank when the ranks' buffers differ."""
    from mpi4py import MPI

    mine = signature(buffers)
    low, high = mine.copy(), mine.copy()
    mpi_comm.Allreduce(MPI.IN_PLACE, low, op=MPI.MIN)
    mpi_comm.Allreduce(MPI.IN_PLACE, high, op=MPI.MAX)
    if not np.array_equal(low[:3], high[:3]):
        counts = mpi_comm.allgather((mpi_comm.Get_rank(), int(mine[0]), int(mine[1])))
        described = ", ".join(f"rank {r}: {n} buffers, {e} elements" for r, n, e in counts)
        raise CandleError(
            f"{what}: the ranks passed different buffers ({described}); every rank must pass "
            "the same number of buffers with the same sizes and types"
        )
    if not low[3]:
        raise CandleError(f"{what}: buffers must be C-contiguous numpy arrays (use numpy.ascontiguousarray)")

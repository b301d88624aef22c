"""Communicators: what data-parallel training and sub-job launching need from MPI-like layers.

A communicator reduces and broadcasts lists of numpy arrays in place. Every implementation
checks, before it moves data, that all ranks passed buffers of the same sizes and types, so a
mismatch is the same clear error on every rank instead of a hang or garbage.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

import numpy as np

from candle_core.errors import CandleError, PeerLost

OPS = ("sum", "average")
DEFAULT_TIMEOUT = 600.0  # seconds a collective may wait for a peer (keyword comm_timeout)
SPIN_SECONDS = 0.01  # a waiting rank polls this long at full speed, then sleeps between polls
NAP_SECONDS = 0.001
POLLS_PER_CLOCK_READ = 64


def wait(requests: list, timeout: float, what: str, rank: int, any_one: bool = False) -> int | None:
    """Complete MPI requests (all, or ``any_one``: the next one, returning its index), polling
    instead of blocking so that a silent peer raises ``PeerLost`` after ``timeout`` seconds."""
    from mpi4py import MPI

    test_any, test_all = MPI.Request.Testany, MPI.Request.Testall
    started = time.monotonic()
    while True:
        for _ in range(POLLS_PER_CLOCK_READ):  # poll in a tight loop; read the clock now and then
            if any_one:
                index, done = test_any(requests)
                if done:
                    return index
            elif test_all(requests):
                return None
        waited = time.monotonic() - started
        if waited > timeout:
            raise PeerLost(
                f"rank {rank}: {what} got no answer from its peers within {timeout:g} s; a rank has "
                "died or hangs (see the other ranks' output), so this job stops; raise comm_timeout "
                "if a rank legitimately needs longer"
            )
        if waited > SPIN_SECONDS:
            time.sleep(NAP_SECONDS)


def check_op(op: str) -> None:
    if op not in OPS:
        raise CandleError(f"allreduce op '{op}' is not one of {', '.join(OPS)}")


def _facts(buffer) -> tuple[int, str, bool]:
    """(elements, element type, contiguous) of a numpy array or a framework tensor."""
    if isinstance(buffer, np.ndarray):
        return buffer.size, buffer.dtype.str, buffer.flags.c_contiguous
    return buffer.numel(), str(buffer.dtype), buffer.is_contiguous()


def signature(buffers: Sequence) -> np.ndarray:
    """What every rank must agree on: buffer count, total elements, a hash of sizes and types,
    and whether all buffers are contiguous."""
    facts = [_facts(b) for b in buffers]
    text = ",".join(f"{size}:{kind}" for size, kind, _ in facts)
    digest = int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "little")
    contiguous = all(flag for *_, flag in facts)
    return np.array([len(buffers), sum(size for size, *_ in facts), digest, contiguous], dtype=np.int64)


def agree(mpi_comm, buffers: Sequence[np.ndarray], what: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Raise the same CandleError on every rank when the ranks' buffers differ."""
    from mpi4py import MPI

    mine = signature(buffers)
    low, high = mine.copy(), mine.copy()
    requests = [mpi_comm.Iallreduce(MPI.IN_PLACE, low, op=MPI.MIN), mpi_comm.Iallreduce(MPI.IN_PLACE, high, op=MPI.MAX)]
    wait(requests, timeout, what, mpi_comm.Get_rank())
    if not np.array_equal(low[:3], high[:3]):
        counts = mpi_comm.allgather((mpi_comm.Get_rank(), int(mine[0]), int(mine[1])))
        described = ", ".join(f"rank {r}: {n} buffers, {e} elements" for r, n, e in counts)
        raise CandleError(
            f"{what}: the ranks passed different buffers ({described}); every rank must pass "
            "the same number of buffers with the same sizes and types"
        )
    if not low[3]:
        raise CandleError(f"{what}: buffers must be C-contiguous numpy arrays (use numpy.ascontiguousarray)")

"""The ``ring`` communicator: candle's own ring allreduce on mpi4py point-to-point messages.

Bandwidth-optimal: a reduce-scatter then an allgather around the ring of p ranks, each rank
sending 2(p-1)/p of the data. Small buffers are fused into one buffer (up to ``fusion_bytes``)
before reducing; each ring step is cut into pieces of ``chunk_bytes`` sent and received
non-blockingly, so that adding one piece overlaps the transfer of the next. ``compression
='fp16'`` sends float16 on the wire and accumulates in the buffers' own precision. Below
``ring_threshold_bytes`` (default 256 KiB) a fused buffer is latency-bound: 2(p-1) ring steps
lose to MPI's own small-message algorithms, so it goes to MPI_Allreduce (as Horovod and NCCL
switch algorithms by size).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from candle_core.comm import wait
from candle_plugins.comm.mpi import MPICommunicator

MIB = 1 << 20


def _segments(n: int, parts: int) -> list[tuple[int, int]]:
    """(start, stop) of ``parts`` nearly equal pieces of range(n)."""
    base, extra = divmod(n, parts)
    bounds, start = [], 0
    for i in range(parts):
        stop = start + base + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


class RingCommunicator(MPICommunicator):
    name = "ring"

    def __init__(
        self,
        mpi_comm=None,
        fusion_bytes: int = 64 * MIB,
        chunk_bytes: int = 4 * MIB,
        compression: str | None = None,
        ring_threshold_bytes: int = 256 * 1024,
    ) -> None:
        super().__init__(mpi_comm)
        self.fusion_bytes, self.chunk_bytes, self.compression = fusion_bytes, chunk_bytes, compression
        self.ring_threshold_bytes = ring_threshold_bytes
        self._fusion: dict[np.dtype, np.ndarray] = {}

    def allreduce(self, buffers: Sequence[np.ndarray], op: str = "sum") -> None:
        self._prepare(buffers, op)
        if self.size > 1:
            for group in self._fusion_groups(buffers):
                if len(group) == 1:
                    self._ring(group[0].reshape(-1))
                else:
                    self._reduce_fused(group)
        if op == "average":
            for buffer in buffers:
                buffer /= self.size

    def _fusion_groups(self, buffers: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
        """Consecutive buffers of one dtype, up to fusion_bytes together (a larger one alone)."""
        groups: list[list[np.ndarray]] = []
        size = 0
        for buffer in buffers:
            if groups and groups[-1][0].dtype == buffer.dtype and size + buffer.nbytes <= self.fusion_bytes:
                groups[-1].append(buffer)
                size += buffer.nbytes
            else:
                groups.append([buffer])
                size = buffer.nbytes
        return groups

    def _reduce_fused(self, group: list[np.ndarray]) -> None:
        total = sum(b.size for b in group)
        fused = self._fusion.get(group[0].dtype)
        if fused is None or fused.size < total:
            fused = self._fusion[group[0].dtype] = np.empty(
                max(total, self.fusion_bytes // group[0].itemsize), dtype=group[0].dtype
            )
        offset = 0
        for buffer in group:
            fused[offset : offset + buffer.size] = buffer.reshape(-1)
            offset += buffer.size
        self._ring(fused[:total])
        offset = 0
        for buffer in group:
            buffer.reshape(-1)[:] = fused[offset : offset + buffer.size]
            offset += buffer.size

    def _ring(self, data: np.ndarray) -> None:
        if data.nbytes < self.ring_threshold_bytes:
            self._wait([self.comm.Iallreduce(self.MPI.IN_PLACE, data, op=self.MPI.SUM)], "allreduce")
            return
        p, rank = self.size, self.rank
        segments = _segments(data.size, p)
        right, left = (rank + 1) % p, (rank - 1) % p
        for step in range(p - 1):  # reduce-scatter: afterwards rank r owns the sum of segment r+1
            send, receive = segments[(rank - step) % p], segments[(rank - step - 1) % p]
            self._exchange(data[send[0] : send[1]], data[receive[0] : receive[1]], right, left, reduce=True)
        for step in range(p - 1):  # allgather the owned segments around the ring
            send, receive = segments[(rank - step + 1) % p], segments[(rank - step) % p]
            self._exchange(data[send[0] : send[1]], data[receive[0] : receive[1]], right, left, reduce=False)

    def _exchange(self, outgoing: np.ndarray, incoming: np.ndarray, right: int, left: int, reduce: bool) -> None:
        wire = np.float16 if self.compression == "fp16" and np.issubdtype(incoming.dtype, np.floating) else None
        itemsize = np.dtype(wire or incoming.dtype).itemsize
        piece = max(1, self.chunk_bytes // itemsize)
        landing = np.empty(incoming.size, dtype=wire or incoming.dtype)
        receives = [
            self.comm.Irecv(landing[start : start + piece], source=left, tag=i)
            for i, start in enumerate(range(0, incoming.size, piece))
        ]
        payload = outgoing.astype(wire) if wire else outgoing
        sends = [
            self.comm.Isend(payload[start : start + piece], dest=right, tag=i)
            for i, start in enumerate(range(0, outgoing.size, piece))
        ]
        for _ in receives:
            index = wait(receives, self.timeout, f"ring allreduce (from rank {left})", self.rank, any_one=True)
            start = index * piece
            chunk = landing[start : start + piece]
            target = incoming[start : start + piece]
            if reduce:
                np.add(target, chunk, out=target, casting="unsafe")
            else:
                target[:] = chunk
        self._wait(sends, f"ring allreduce (to rank {right})")

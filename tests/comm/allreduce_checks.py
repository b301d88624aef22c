"""Run under mpiexec by test_ring.py: the ring allreduce against MPI_Allreduce, on every rank.

Rank 0 prints one line per check and rank ("RANK ok NAME" or "RANK FAIL NAME: why"); every
rank exits 1 if any check failed anywhere.
"""

import sys

import numpy as np

from candle_core import CandleError
from candle_plugins.comm.mpi import MPICommunicator
from candle_plugins.comm.ring import RingCommunicator

mpi = MPICommunicator()
rank, size = mpi.rank, mpi.size
failures = []
report = []


def buffers(sizes, dtype, seed, integers):
    rng = np.random.default_rng([seed, rank])
    if integers:
        return [rng.integers(-1000, 1000, n).astype(dtype) for n in sizes]
    return [rng.standard_normal(n).astype(dtype) for n in sizes]


def check(name, sizes, dtype, integers, ring, op="sum", exact=True, rtol=1e-5):
    ours = buffers(sizes, dtype, 7, integers)
    reference = [b.copy() for b in ours]
    ring.allreduce(ours, op=op)
    mpi.allreduce(reference, op=op)
    for a, b in zip(ours, reference, strict=True):
        same = np.array_equal(a, b) if exact else np.allclose(a, b, rtol=rtol, atol=rtol)
        if not same:
            failures.append(name)
            report.append(f"FAIL {name}: max difference {np.abs(a - b).max()}")
            return
    report.append(f"ok {name}")


small = RingCommunicator(chunk_bytes=4096, fusion_bytes=1 << 16, ring_threshold_bytes=0)  # always the ring
default = RingCommunicator(ring_threshold_bytes=0)
check("integers f32, odd sizes, bit for bit", [1, 7, 1001, 4099], np.float32, True, small)
check("integers f64, size not divisible by p", [size * 1000 + 1], np.float64, True, default)
check("integer dtype int64", [5, 333], np.int64, True, small)
check("random f32 within tolerance", [12345, 3], np.float32, False, small, exact=False)
check("many small buffers (fusion)", list(np.random.default_rng(0).integers(1, 50, 200)), np.float32, True, small)
check("large buffer, pipelined chunks", [3_000_001], np.float32, True, small)
check("fewer elements than ranks", [1], np.float32, True, default)
check("average", [100, 17], np.float64, False, small, op="average", exact=False, rtol=1e-12)
check(
    "fp16 on the wire",
    [5000],
    np.float32,
    False,
    RingCommunicator(compression="fp16", ring_threshold_bytes=0),
    exact=False,
    rtol=2e-2,
)

mismatched = [np.ones(10 + rank, dtype=np.float32)]
try:
    default.allreduce(mismatched)
    failures.append("mismatch")
    report.append("FAIL mismatch: no error")
except CandleError as error:
    report.append(f"ok mismatch: {error}")

shared = [np.full(4, float(rank))]
mpi.broadcast(shared, root=size - 1)
if np.all(shared[0] == size - 1):
    report.append("ok broadcast")
else:
    failures.append("broadcast")
    report.append("FAIL broadcast")
mpi.barrier()
reports = mpi.comm.gather(report, root=0)
if rank == 0:
    for r, lines in enumerate(reports):
        for line in lines:
            print(r, line)
sys.exit(1 if mpi.comm.allreduce(len(failures)) else 0)

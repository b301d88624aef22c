"""Allreduce bus bandwidth of every available communicator, against MPI_Allreduce.

    mpiexec -n 2 python benchmarks/perf/allreduce.py [--max-mib 256] [--repeats 5]

For float32 buffers of 4 KiB to ``--max-mib`` MiB (powers of 4), the median time of
``--repeats`` allreduces (after a warm-up) gives algbw = bytes / time and the bus bandwidth
busbw = algbw · 2(p−1)/p; rank 0 prints GB/s per communicator and its ratio to ``mpi``.
Communicators: mpi (mpi4py Allreduce), ring (candle's own), gloo (torch.distributed, when torch
is installed), horovod (when it imports).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import time

import numpy as np
from mpi4py import MPI

from candle_plugins.comm.mpi import MPICommunicator
from candle_plugins.comm.ring import RingCommunicator


def gloo_allreduce(comm):
    try:
        import torch
        import torch.distributed as dist
    except ImportError:
        return None
    port = None
    if comm.Get_rank() == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    port = comm.bcast(port, root=0)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=comm.Get_rank(), world_size=comm.Get_size())

    def reduce(buffer: np.ndarray) -> None:
        dist.all_reduce(torch.from_numpy(buffer))

    return reduce


def horovod_allreduce():
    try:
        import horovod.torch as hvd
        import torch
    except ImportError:
        return None
    hvd.init()

    def reduce(buffer: np.ndarray) -> None:
        tensor = torch.from_numpy(buffer)
        hvd.allreduce_(tensor, op=hvd.Sum)

    return reduce


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-mib", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    mpi, ring = MPICommunicator(), RingCommunicator()
    methods = {"mpi": lambda b: mpi.allreduce([b]), "ring": lambda b: ring.allreduce([b])}
    for name, maker in (("gloo", lambda: gloo_allreduce(comm)), ("horovod", horovod_allreduce)):
        reduce = maker()
        if reduce is not None:
            methods[name] = reduce
    sizes, nbytes = [], 4096
    while nbytes <= args.max_mib << 20:
        sizes.append(nbytes)
        nbytes *= 4
    results = {}
    for nbytes in sizes:
        buffer = np.ones(nbytes // 4, dtype=np.float32)
        for name, reduce in methods.items():
            reduce(buffer)  # warm-up
            times = []
            for _ in range(args.repeats):
                comm.Barrier()
                start = time.perf_counter()
                reduce(buffer)
                times.append(time.perf_counter() - start)
            seconds = comm.allreduce(statistics.median(times), op=MPI.MAX)
            results[nbytes, name] = nbytes / seconds * 2 * (size - 1) / size / 1e9
    if rank == 0:
        names = list(methods)
        print(f"busbw GB/s on {size} ranks (ratio to mpi)")
        print(f"{'size':>10s} " + " ".join(f"{n:>18s}" for n in names))
        for nbytes in sizes:
            label = f"{nbytes >> 10} KiB" if nbytes < 1 << 20 else f"{nbytes >> 20} MiB"
            cells = " ".join(
                f"{results[nbytes, n]:8.3f} ({results[nbytes, n] / results[nbytes, 'mpi']:5.2f}x)" for n in names
            )
            print(f"{label:>10s} {cells}")


if __name__ == "__main__":
    main()

"""Sharing a node's cores between processes that train at once (trials, data-parallel ranks)."""

from __future__ import annotations

import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def share_cores(processes: int) -> int:
    """Give this process cores / ``processes`` threads (before a framework is imported).

    Without it, N processes with all-core thread pools oversubscribe the cores (measured: two
    NT3 trials on 2 cores ran 5x slower). A value the user set wins. Returns the thread count.
    """
    threads = max(1, (os.cpu_count() or 1) // max(1, processes))
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))
    return threads

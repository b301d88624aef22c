"""Run under ``mpiexec -n 3``: ranks allreduce in a loop until the last rank dies or hangs.

Usage: dead_peer_checks.py COMM TIMEOUT die|hang. The others must fail in bounded time: killed
by the launcher, or with PeerLost after about TIMEOUT seconds (printed; exit code 3).
"""

import os
import signal
import sys
import time

import numpy as np

from candle_core.errors import PeerLost
from candle_core.plugin_manager import get_plugin_manager

name, timeout, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3]
communicator = get_plugin_manager().component("comm", name)()
communicator.timeout = timeout
buffers = [np.ones(1 << 18, dtype=np.float32), np.ones(100, dtype=np.float32)]
started = time.monotonic()
try:
    for step in range(1000):
        if step == 3 and communicator.rank == communicator.size - 1:
            if mode == "die":
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(3600)
        communicator.allreduce(buffers, op="average")
except PeerLost as exc:
    os.write(1, f"lost {communicator.rank} {time.monotonic() - started:.1f} {exc}\n".encode())
    os._exit(3)
os.write(1, f"finished {communicator.rank}\n".encode())

"""Run under ``mpiexec -n 4``: launch() checks; prints one 'ok ...' line per rank and check."""

import json
import os
import sys
import time
from pathlib import Path

from mpi4py import MPI

from candle_core.launch import TIMED_OUT, launch

world = MPI.COMM_WORLD
rank = world.Get_rank()
pair = world.Split(rank // 2, rank)  # two groups of two ranks
python = sys.executable
folder = Path(sys.argv[1])


def child(code: str) -> list[str]:
    return [python, "-c", code]


def report(name: str, value) -> None:
    os.write(1, f"{rank} ok {name} {json.dumps(value)}\n".encode())  # one write: lines from ranks stay whole


for expected, code in [(0, "pass"), (3, "import sys; sys.exit(3)"), (-9, "import os; os.kill(os.getpid(), 9)")]:
    report(f"exit{expected}", launch(child(code), world, output=folder / f"exit{expected}.log"))

# the child is a job of its own: size = the parent communicator's size, fresh ranks
size_code = "import os; from mpi4py import MPI; c = MPI.COMM_WORLD; "
size_code += "os.write(1, f'child {c.Get_rank()} {c.Get_size()}\\n'.encode())"  # one write: lines stay whole
report("size", launch(child(size_code), pair, output=folder / f"size{rank // 2}.log"))

# two groups at once; the parents sleep while their child runs
sleeper = "import json, os, time; t = time.time(); time.sleep(1.5); "
sleeper += "os.write(1, (json.dumps([t, time.time()]) + '\\n').encode())"
world.Barrier()
cpu = time.process_time()
report("concurrent", launch(child(sleeper), pair, output=folder / f"group{rank // 2}.log"))
report("parent_cpu", time.process_time() - cpu)

started = time.monotonic()
code = launch(child("import time; time.sleep(60)"), pair, timeout=1.0, output=folder / f"timeout{rank // 2}.log")
report("timeout", [code == TIMED_OUT, time.monotonic() - started])

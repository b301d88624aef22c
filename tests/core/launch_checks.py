"""Run under ``mpiexec -n 4``: launch() checks; prints one 'ok ...' line per rank and check."""

import json
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
    print(f"{rank} ok {name} {json.dumps(value)}", flush=True)


for expected, code in [(0, "pass"), (3, "import sys; sys.exit(3)"), (-9, "import os; os.kill(os.getpid(), 9)")]:
    report(f"exit{expected}", launch(child(code), world, output=folder / f"exit{expected}.log"))

# the child is a job of its own: size = the parent communicator's size, fresh ranks
size_code = "from mpi4py import MPI; c = MPI.COMM_WORLD; print('child', c.Get_rank(), c.Get_size(), flush=True)"
report("size", launch(child(size_code), pair, output=folder / f"size{rank // 2}.log"))

# two groups at once; the parents sleep while their child runs
sleeper = "import json, sys, time; t = time.time(); time.sleep(1.5); print(json.dumps([t, time.time()]))"
world.Barrier()
cpu = time.process_time()
report("concurrent", launch(child(sleeper), pair, output=folder / f"group{rank // 2}.log"))
report("parent_cpu", time.process_time() - cpu)

started = time.monotonic()
code = launch(child("import time; time.sleep(60)"), pair, timeout=1.0, output=folder / f"timeout{rank // 2}.log")
report("timeout", [code == TIMED_OUT, time.monotonic() - started])

"""Search overhead: trials that sleep, run by each evaluator; how busy the workers were.

    python benchmarks/perf/search_overhead.py [--trials 20] [--sleep 1.0] [--workers 2]

Each trial is ``testfn`` for one epoch that sleeps ``--sleep`` seconds. For the local
evaluator (and the MPI one, with mpiexec -n workers+1, when mpiexec is found) it prints

* worker utilization = trials x sleep / (workers x wall),
* framework overhead per trial = (workers x wall - trials x sleep) / trials,

twice: with the wall time of the whole command (Python start, imports, fork server start
included), and with the steady-state wall time from the first trial's start to the last trial's
end as recorded in the results store.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from candle_core.search.store import DATABASE, ResultsStore


def measure(evaluator: str, trials: int, sleep: float, workers: int) -> tuple[float, float]:
    folder = Path(tempfile.mkdtemp(prefix="candle_overhead_"))
    space = folder / "space.json"
    space.write_text(json.dumps([{"name": "x1", "type": "float", "lower": 0, "upper": 1}]))
    command = [
        sys.executable,
        "-m",
        "candle_core.cli",
        "search",
        "testfn",
        "--algorithm",
        "random",
        "--space",
        str(space),
        "--budget",
        str(trials),
        "--workers",
        str(workers),
        "--evaluator",
        evaluator,
        "-e",
        "1",
        "--sleep",
        str(sleep),
        "--experiment_id",
        "OVERHEAD",
    ]
    if evaluator == "mpi":
        command = [shutil.which("mpiexec", path=os.path.dirname(sys.executable)), "-n", str(workers + 1), *command]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "CANDLE_DATA_DIR": str(folder)})
    wall = time.perf_counter() - start
    records = ResultsStore(folder / "testfn" / "Output" / "OVERHEAD" / DATABASE).trials()
    steady = max(r.ended for r in records) - min(r.started for r in records)
    shutil.rmtree(folder, ignore_errors=True)
    work = trials * sleep
    return [(work / (workers * w), (workers * w - work) / trials) for w in (wall, steady)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--sleep", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    evaluators = ["local"] + (["mpi"] if shutil.which("mpiexec", path=os.path.dirname(sys.executable)) else [])
    print(f"{args.trials} trials sleeping {args.sleep:g} s, {args.workers} workers")
    for evaluator in evaluators:
        whole, steady = measure(evaluator, args.trials, args.sleep, args.workers)
        for label, (utilization, overhead) in (("whole command", whole), ("steady state ", steady)):
            print(
                f"  {evaluator:5s} {label}: utilization {utilization:6.1%}, "
                f"overhead {overhead * 1000:5.0f} ms per trial"
            )


if __name__ == "__main__":
    main()

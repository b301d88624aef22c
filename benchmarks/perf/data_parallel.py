"""Data-parallel NT3: epoch time on P ranks against one process with the same global batch.

    python benchmarks/perf/data_parallel.py [--width 6000] [--ranks 2] [--batch 20] [--epochs 3]

Baseline: ``candle run nt3`` in one process with batch ``ranks x batch`` (all cores). Then
``mpiexec -n ranks candle run nt3 --comm C -z batch`` for every communicator that is
available (ring, mpi, horovod for torch), for each backend: the same steps on the same global
batches. Prints the median of the epochs after the first (seconds per epoch), the ratio of
baseline time to data-parallel time (speed-up; 1.0 = no loss), and the final val_loss of both
(equal up to rounding and dropout noise). On one node of 2 cores, P ranks split the cores, so
the ideal ratio here is 1.0: what this measures is the cost of averaging gradients.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from candle_core.launch import find_mpiexec


def run(command_prefix: list[str], flags: list[str]) -> tuple[float, float]:
    folder = Path(tempfile.mkdtemp(prefix="candle_dp_"))
    command = [*command_prefix, sys.executable, "-m", "candle_core.cli", "run", "nt3", *flags]
    command += ["--output_dir", str(folder)]
    done = subprocess.run(command, capture_output=True, text=True, env={"CANDLE_DATA_DIR": str(folder), **_env()})
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    history = json.loads(next(folder.glob("*/*/history.json")).read_text())
    return statistics.median(row["seconds"] for row in history[1:]), history[-1]["val_loss"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "CANDLE_DATA_DIR"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=6000)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=["torch", "keras"])
    args = parser.parse_args()
    mpiexec = find_mpiexec()
    common = ["--data", "synthetic", "--feature_subsample", str(args.width), "-e", str(args.epochs)]
    common += ["--optimizer", "adam", "-lr", "0.0001"]
    global_batch = args.ranks * args.batch
    print(f"NT3 width {args.width}: {args.ranks} ranks x batch {args.batch} vs 1 process x batch {global_batch}")
    print(f"{'backend':8} {'comm':8} {'s/epoch':>8} {'speed-up':>9} {'val_loss':>9}")
    for backend in args.backends:
        flags = [*common, "--backend", backend]
        base, base_loss = run([], [*flags, "-z", str(global_batch)])
        print(f"{backend:8} {'1 proc':8} {base:8.2f} {1.0:8.2f}x {base_loss:9.4f}", flush=True)
        comms = ["ring", "mpi"]
        if backend == "torch" and importlib.util.find_spec("horovod"):
            comms.append("horovod")
        for comm in comms:
            seconds, loss = run([mpiexec, "-n", str(args.ranks)], [*flags, "-z", str(args.batch), "--comm", comm])
            print(f"{backend:8} {comm:8} {seconds:8.2f} {base / seconds:8.2f}x {loss:9.4f}", flush=True)


if __name__ == "__main__":
    main()

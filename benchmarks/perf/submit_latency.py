"""From ``candle submit`` to the first trial running, on a private Slurm of three virtual nodes.

    sudo python benchmarks/perf/submit_latency.py [--repeats 5]

Needs root and Debian's slurm-wlm and munge (tests/install_system_packages.sh). Each repeat submits
a testfn search (``candle submit -- search testfn ...``) to the idle cluster and reads, from the
search's store, when its first trial started. Prints the seconds the ``candle submit`` command
took (resolving the benchmark, writing the script, sbatch) and from its start to the first trial
(queue wait included: the cluster is idle, so it is Slurm's scheduling cycle), median and range.
The baseline: a bare ``sbatch --wrap true`` to the job's start, on the same cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from candle_core.cluster.local_slurm import missing_commands, start_cluster, stop_cluster
from candle_core.errors import CandleError
from candle_core.search.store import ResultsStore

SPACE = [
    {"name": "x1", "type": "float", "lower": -5.0, "upper": 10.0},
    {"name": "x2", "type": "float", "lower": 0.0, "upper": 15.0},
]


def _first_trial_start(database: Path, timeout: float = 120) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            started = [t.started for t in ResultsStore(database, create=False).trials() if t.started]
        except CandleError:  # not there yet, or being created
            started = []
        if started:
            return min(started)
        time.sleep(0.05)
    raise RuntimeError(f"no trial started within {timeout} s ({database})")


def _bare_job(cluster, folder: Path) -> float:
    marker = folder / f"bare-{time.time_ns()}"
    start = time.time()
    subprocess.run(
        ["sbatch", "-o", "/dev/null", "--wrap", f"date +%s.%N > {marker}"],
        env={**os.environ, **cluster.env},
        check=True,
        capture_output=True,
    )
    while not marker.exists() or not marker.read_text().strip():
        time.sleep(0.05)
    return float(marker.read_text()) - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if missing_commands() or os.geteuid() != 0:
        sys.exit("needs root and Slurm (bash tests/install_system_packages.sh)")
    folder = Path(tempfile.mkdtemp(prefix="candle_submit_"))
    cluster = start_cluster(folder / "slurm")
    space = folder / "space.json"
    space.write_text(json.dumps(SPACE))
    environment = {**os.environ, **cluster.env, "CANDLE_DATA_DIR": str(folder / "data")}
    submit_seconds, first_trial, bare = [], [], []
    try:
        for repeat in range(args.repeats):
            command = [sys.executable, "-m", "candle_core.cli", "submit", "--", "search", "testfn"]
            command += ["--space", str(space), "--budget", "1", "-e", "1", "--experiment_id", f"latency{repeat}"]
            start = time.time()
            subprocess.run(command, env=environment, check=True, capture_output=True)
            submit_seconds.append(time.time() - start)
            database = folder / "data" / "testfn" / "Output" / f"latency{repeat}" / "results.sqlite"
            first_trial.append(_first_trial_start(database) - start)
            bare.append(_bare_job(cluster, folder))
            subprocess.run(["scancel", "-u", "root"], env=environment, check=False)
            time.sleep(1)
    finally:
        stop_cluster(folder / "slurm")

    def show(name: str, values: list[float]) -> None:
        print(f"  {name:42s} median {np.median(values):5.2f} s  (min {min(values):.2f}, max {max(values):.2f})")

    print(f"candle submit on a local 3-node Slurm, {args.repeats} repeats:")
    show("candle submit command (script + sbatch)", submit_seconds)
    show("candle submit -> first trial running", first_trial)
    show("baseline: sbatch --wrap -> job running", bare)
    print(f"  ratio: first trial / bare job start = {np.median(first_trial) / np.median(bare):.2f}x")


if __name__ == "__main__":
    main()

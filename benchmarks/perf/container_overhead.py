"""Wall time of NT3 inside candle's container against the same run on the host.

    python benchmarks/perf/container_overhead.py IMAGE [--runtime podman] [--width 2000] [--epochs 3] [--repeats 3]

Runs ``candle run nt3 --data synthetic`` (same seed, same flags) natively and through
``candle container exec IMAGE --``, alternating, ``--repeats`` times each; prints the median wall
times, their ratio container/native (goal <= 1.02), and whether the final metrics are equal.
Build the image first: candle container build --backend torch --base localhost/candle-base:bookworm
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], folder: Path) -> tuple[float, dict]:
    env = {**os.environ, "CANDLE_DATA_DIR": str(folder)}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    history = json.loads(next(folder.glob("nt3/**/history.json")).read_text())
    return seconds, history[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image")
    parser.add_argument("--runtime", default=None)
    parser.add_argument("--width", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    flags = ["nt3", "--data", "synthetic", "--feature_subsample", str(args.width), "-e", str(args.epochs)]
    candle = [sys.executable, "-m", "candle_core.cli"]
    runtime = ["--runtime", args.runtime] if args.runtime else []
    commands = {
        "native": [*candle, "run", *flags],
        "container": [*candle, "container", "exec", args.image, *runtime, "--", "candle", "run", *flags],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    finals: dict[str, dict] = {}
    for _ in range(args.repeats):
        for name, command in commands.items():
            seconds, finals[name] = timed(command, Path(tempfile.mkdtemp(prefix=f"candle_{name}_")))
            times[name].append(seconds)
            print(f"{name:9} {seconds:7.2f} s", flush=True)
    native, container = statistics.median(times["native"]), statistics.median(times["container"])
    same = all(finals["native"][k] == finals["container"][k] for k in ("loss", "val_loss", "val_accuracy"))
    print(
        f"NT3 width {args.width}, {args.epochs} epochs: native {native:.2f} s, container {container:.2f} s, "
        f"ratio container/native {container / native:.3f}; final metrics equal: {same}"
    )


if __name__ == "__main__":
    main()

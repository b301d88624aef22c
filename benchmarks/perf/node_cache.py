"""Bytes a search writes to the shared file system, with and without the node-local model cache.

    python benchmarks/perf/node_cache.py [--population 4] [--rounds 4] [--round-epochs 2] [--workers 2]

A PBT search (population × rounds trials of round-epochs epochs each, a checkpoint every epoch: what PBT
needs to continue members) on reduced NT3 (synthetic data, 2,000 genes, conv 32/32, dense
64/16, torch), once with ``--model-cache shared`` (the baseline: every checkpoint, best
checkpoint and model in the experiment folder) and once with ``--model-cache node`` (the node's
$CANDLE_NODE_CACHE, only the latest checkpoint of each member and the kept models flushed).
The shared run deletes nothing (no checkpoint pruning, no --keep-models), so its folder at the
end holds every byte written to it; the node run's bytes are its light files plus what each trial
flushed (recorded in its results), even if the model cache deleted some later. ``--keep-models
K`` applies to the node run only: in the shared run it would delete models after they were
written, never write fewer. Prints both and their ratio.
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

from candle_core.search.store import DATABASE, ResultsStore

NT3 = ["--data", "synthetic", "--feature_subsample", "2000", "--optimizer", "adam", "--conv", "32", "20", "1"]
NT3 += ["32", "10", "1", "--dense", "64", "16", "--ckpt_save_interval", "1"]
SPACE = [
    {"name": "learning_rate", "type": "float", "lower": 1e-5, "upper": 1e-2, "log": True},
    {"name": "dropout", "type": "float", "lower": 0.0, "upper": 0.5},
]


def _written(folder: Path) -> int:
    """Bytes written to the experiment folder: what is in it, plus, with the node cache, what
    trials flushed and the model cache deleted since (each trial records its flushed bytes)."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    light = sum(p.stat().st_size for p in files if not set(p.relative_to(folder).parts) & {"model", "ckpts"})
    flushed = [t.results.get("node_cache", {}).get("flushed_bytes") for t in ResultsStore(folder / DATABASE).trials()]
    if None in flushed:  # no node cache: nothing was deleted, the folder holds every byte written
        return sum(p.stat().st_size for p in files)
    return light + sum(flushed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--population", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--round-epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep-models", type=int, default=None, help="the node run keeps the best K models")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="candle_node_cache_"))
    space = root / "space.json"
    space.write_text(json.dumps(SPACE))
    environment = {**os.environ, "CANDLE_DATA_DIR": str(root / "data"), "CANDLE_NODE_CACHE": str(root / "node")}
    budget = args.population * args.rounds
    measured = {}
    for cache in ("shared", "node"):
        options = {"population": args.population, "round_epochs": args.round_epochs}
        command = [sys.executable, "-m", "candle_core.cli", "search", "nt3", "--algorithm", "pbt"]
        command += ["--space", str(space), "--budget", str(budget), "--workers", str(args.workers)]
        command += [word for key, value in options.items() for word in ("--option", f"{key}={value}")]
        command += ["--model-cache", cache, *NT3, "--experiment_id", cache]
        if cache == "node" and args.keep_models is not None:
            command += ["--keep-models", str(args.keep_models)]
        start = time.perf_counter()
        subprocess.run(command, env=environment, check=True, capture_output=True)
        seconds = time.perf_counter() - start
        measured[cache] = (_written(root / "data" / "nt3" / cache), seconds)
    rounds = f"{args.rounds} rounds of {args.round_epochs} epochs"
    keep = f", node run --keep-models {args.keep_models}" if args.keep_models is not None else ""
    print(f"PBT, {budget} trials ({args.population} members x {rounds}), reduced NT3{keep}:")
    for cache, (size, seconds) in measured.items():
        print(f"  --model-cache {cache:6s}  {size / 1e6:8.1f} MB written to the experiment folder  ({seconds:.0f} s)")
    print(f"  ratio shared / node: {measured['shared'][0] / measured['node'][0]:.1f}x fewer bytes with the node cache")


if __name__ == "__main__":
    main()

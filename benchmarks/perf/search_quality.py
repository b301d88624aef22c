"""Search quality: model-based, genetic and HyperSpace searches against random search.

    python benchmarks/perf/search_quality.py [--budget 40] [--seeds 10] [--nt3]

For each test function (branin, hartmann6, rosenbrock) and algorithm, the median over seeds of
the best value found within the budget (4 proposals at a time), and its ratio of distance to
the known minimum against random search's. ``--nt3`` also runs one small real search of
synthetic NT3 (torch, 4 trials with random search and 4 with mbo, learning rate and dropout).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from candle_benchmarks.testfn.functions import MINIMA
from candle_benchmarks.testfn.harness import optimize
from candle_core.plugin_manager import get_plugin_manager
from candle_core.search.store import DATABASE, ResultsStore

ALGORITHMS = ("random", "mbo", "ga", "hyperspace")
FUNCTIONS = ("branin", "hartmann6", "rosenbrock")


def nt3_search(budget: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="candle_quality_"))
    space = folder / "space.json"
    space.write_text(
        json.dumps(
            [
                {"name": "learning_rate", "type": "float", "lower": 1e-5, "upper": 1e-2, "log": True},
                {"name": "dropout", "type": "float", "lower": 0.0, "upper": 0.5},
            ]
        )
    )
    print(f"\nsynthetic NT3 (500 genes, 2 epochs, adam), {budget} trials, 2 workers: best val_loss")
    for algorithm in ("random", "mbo"):
        command = [
            sys.executable,
            "-m",
            "candle_core.cli",
            "search",
            "nt3",
            "--algorithm",
            algorithm,
            "--space",
            str(space),
            "--budget",
            str(budget),
            "--workers",
            "2",
            "--option",
            "initial_design=4",
            "--data",
            "synthetic",
            "--feature_subsample",
            "500",
            "--optimizer",
            "adam",
            "-e",
            "2",
            "--experiment_id",
            algorithm,
        ]
        subprocess.run(command, check=True, capture_output=True, env={**os.environ, "CANDLE_DATA_DIR": str(folder)})
        trials = ResultsStore(folder / "nt3" / algorithm / DATABASE).trials()
        best = min(trials, key=lambda t: t.objective)
        print(
            f"  {algorithm:6s} {best.objective:.4f}  (learning_rate {best.params['learning_rate']:.2e}, "
            f"dropout {best.params['dropout']:.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--nt3", action="store_true")
    args = parser.parse_args()
    manager = get_plugin_manager()
    print(f"median best value over {args.seeds} seeds, budget {args.budget} (minimum; gap ratio vs random)")
    print("function    " + "".join(f"{name:>22s}" for name in ALGORITHMS))
    wins = {name: 0 for name in ALGORITHMS}
    for function in FUNCTIONS:
        medians = {}
        for name in ALGORITHMS:
            algorithm = manager.component("search", name)()
            medians[name] = float(
                np.median([optimize(algorithm, function, args.budget, seed)[-1] for seed in range(args.seeds)])
            )
        gap = {name: medians[name] - MINIMA[function] for name in ALGORITHMS}
        for name in ALGORITHMS:
            wins[name] += medians[name] < medians["random"]
        cells = "".join(f"{medians[n]:>12.4f} ({gap[n] / gap['random']:5.2f}x)" for n in ALGORITHMS)
        print(f"{function:11s} {cells}")
    print("functions where the algorithm beats random: " + ", ".join(f"{n} {wins[n]}/3" for n in ALGORITHMS[1:]))
    if args.nt3:
        nt3_search(8)


if __name__ == "__main__":
    main()

"""testfn: analytic test functions dressed as a training run, for searches and evaluators.

Each "epoch" reports ``loss`` and ``val_loss`` that decay toward f(x1..x6) as
``f + (1 + |f|) * exp(-epoch / 3)`` (plus optional gaussian ``noise``), so early epochs
predict the final value, as in real training (what ASHA and PBT rely on). It needs no
framework, runs in milliseconds, and can be told to fail (``fail``: raise, abort, hang) at
epoch ``fail_epoch`` to exercise crash handling.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from candle_benchmarks.testfn.functions import FUNCTIONS
from candle_core import Benchmark, hookimpl
from candle_core.run_context import RunContext

ADDITIONAL_DEFINITIONS = [
    {"name": "function", "type": str, "default": "branin", "choices": sorted(FUNCTIONS), "help": "test function"},
    *({"name": f"x{i}", "type": float, "default": 0.5, "help": f"coordinate {i}"} for i in range(1, 7)),
    {"name": "noise", "type": float, "default": 0.0, "help": "standard deviation of gaussian noise on the metrics"},
    {"name": "sleep", "type": float, "default": 0.0, "help": "seconds each epoch sleeps (to emulate work)"},
    {
        "name": "fail",
        "type": str,
        "default": "none",
        "choices": ["none", "raise", "abort", "hang"],
        "help": "fail on purpose at epoch fail_epoch: raise an exception, abort the process, or hang",
    },
    {"name": "fail_epoch", "type": int, "default": 1, "help": "epoch at which 'fail' strikes"},
]


class AnalyticFunction(Benchmark):
    name = "testfn"
    description = "analytic test functions (branin, hartmann6, rosenbrock, sphere) as a cheap run"
    additional_definitions = ADDITIONAL_DEFINITIONS
    required = ["function", "epochs"]

    def run(self, params: Mapping[str, Any], context: RunContext) -> None:
        f = FUNCTIONS[params["function"]]([params[f"x{i}"] for i in range(1, 7)])
        rng = random.Random(params["rng_seed"])
        noise = params["noise"]
        for epoch in range(1, params["epochs"] + 1):
            if params["fail"] != "none" and epoch == params["fail_epoch"]:
                _fail(params["fail"], epoch)
            if params["sleep"] > 0:
                time.sleep(params["sleep"])
            gap = (1 + abs(f)) * math.exp(-epoch / 3)
            loss = f + gap + (rng.gauss(0, noise) if noise else 0.0)
            val_loss = f + 1.1 * gap + (rng.gauss(0, noise) if noise else 0.0)
            if not context.end_epoch(epoch, {"loss": loss, "val_loss": val_loss}):
                break


def _fail(mode: str, epoch: int) -> None:
    if mode == "raise":
        raise RuntimeError(f"testfn failed on purpose at epoch {epoch}")
    if mode == "abort":
        os.abort()
    while True:  # hang
        time.sleep(3600)


@hookimpl
def candle_benchmarks() -> list[Benchmark]:
    return [AnalyticFunction(Path(__file__).parent, "testfn_default_model.txt")]

"""CANDLE's entry point for a benchmark script: ``finalize_parameters(bmk)``.

A CANDLE-compliant script ports by changing its import::

    import candle_core as candle

    class BenchmarkNT3(candle.Benchmark):
        def set_locals(self):
            self.required = set(required)
            self.additional_definitions = additional_definitions

    bmk = BenchmarkNT3(file_path, "nt3_default_model.txt", "keras", prog="nt3", desc="...")
    params = candle.finalize_parameters(bmk)
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy

from candle_core.benchmark import Benchmark
from candle_core.checkpoint import checkpoint_directory
from candle_core.errors import CandleError
from candle_core.parameters.pipeline import keyword_help, resolve_benchmark
from candle_core.run_context import write_final_parameters

DATA_TYPES = {"f16": numpy.float16, "f32": numpy.float32, "f64": numpy.float64}


def finalize_parameters(bmk: Benchmark, argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Resolve a benchmark's parameters from its model file and ``sys.argv``, as CANDLE does.

    As in CANDLE, ``output_dir`` in the result is the run's EXP/RUN directory (created, with
    the final parameters written there), ``data_type`` is a numpy type, ``logfile`` is None unless
    given, and ``ckpt_directory`` defaults to ``<run_dir>/ckpts`` (where ``candle run`` keeps
    them). User errors are printed as one line each and exit with status 2; ``-h`` prints the
    keywords.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    prog = bmk.prog or bmk.name
    try:
        if "-h" in args or "--help" in args:
            print(keyword_help(bmk, prog))
            raise SystemExit(0)
        resolved = resolve_benchmark(bmk, args, prog=prog).resolved
    except CandleError as exc:
        for message in exc.messages:
            print(f"{prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2) from None
    for message in resolved.warnings:
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    params = dict(resolved.values)
    params["output_dir"] = params["run_dir"]
    params.setdefault("logfile", None)  # as CANDLE: scripts read params["logfile"]
    params["ckpt_directory"] = str(checkpoint_directory(params, params["run_dir"]))
    write_final_parameters(Path(params["run_dir"]), resolved.values)
    params["data_type"] = DATA_TYPES[params["data_type"]]
    return params

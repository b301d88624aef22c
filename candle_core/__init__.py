"""candle's thin core: hook specs, plugin manager, CANDLE-compatible parameters, run lifecycle, CLI.

Importing it imports no deep-learning framework (nor numpy). The names below are the public
API; ``import candle_core as candle`` ports a CANDLE-compliant script. ``finalize_parameters``
loads its module (numpy, the run lifecycle) on first use.
"""

from typing import Any

from candle_core.benchmark import Benchmark
from candle_core.errors import CandleError
from candle_core.hookspecs import hookimpl
from candle_core.parameters.keyword import str2bool

__all__ = ["Benchmark", "CandleError", "finalize_parameters", "hookimpl", "str2bool"]


def __getattr__(name: str) -> Any:
    if name == "finalize_parameters":
        from candle_core.compat import finalize_parameters

        return finalize_parameters
    raise AttributeError(f"module 'candle_core' has no attribute {name!r}")

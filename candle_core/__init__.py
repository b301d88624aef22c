"""candle's thin core: hook specs, plugin manager, CANDLE-compatible parameters, run lifecycle, CLI.

Importing it imports no deep-learning framework. The names below are the public API;
``import candle_core as candle`` ports a CANDLE-compliant script.
"""

from candle_core.benchmark import Benchmark, finalize_parameters
from candle_core.errors import CandleError
from candle_core.hookspecs import hookimpl
from candle_core.parameters.keyword import str2bool

__all__ = ["Benchmark", "CandleError", "finalize_parameters", "hookimpl", "str2bool"]

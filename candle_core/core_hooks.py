"""The core's own answers to the data and model hooks (registered with the core modules by
``plugin_manager``): last of all plugins, they ask the benchmark itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from candle_core.benchmark import Benchmark
from candle_core.hookspecs import hookimpl


@hookimpl(trylast=True)
def candle_load_data(benchmark: Benchmark, params: Mapping[str, Any]) -> Any:
    return benchmark.load_data(params)


@hookimpl(trylast=True)
def candle_build_model(benchmark: Benchmark, params: Mapping[str, Any], input_shape: tuple[int, ...]) -> Any:
    return benchmark.build_model(params, input_shape)

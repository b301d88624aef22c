"""candle_lib's ``Benchmark`` (candle_core's, which reads model files without ``eval``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from candle_core.benchmark import Benchmark
from candle_core.compat import finalize_parameters


def create_params(
    file_path: str,
    default_model: str,
    framework: str = "keras",
    prog: str | None = None,
    desc: str | None = None,
    additional_definitions: Sequence[Mapping[str, Any]] | None = None,
    required: Iterable[str] | None = None,
    argv: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A benchmark's final parameters in one call: the ``Benchmark`` from its folder, model file,
    definitions and required keys, then ``finalize_parameters`` (the command line, or ``argv``)."""
    benchmark = Benchmark(
        file_path,
        default_model,
        framework,
        prog=prog,
        desc=desc,
        additional_definitions=additional_definitions,
        required=required,
    )
    return finalize_parameters(benchmark, argv)

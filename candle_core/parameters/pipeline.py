"""The one way from a benchmark and its keyword flags to resolved parameters.

Every entry point (``candle run`` and its siblings, ``finalize_parameters``, a search, a trial,
``candle submit``) goes registry → flags → resolve through ``resolve_benchmark``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from candle_core.benchmark import Benchmark
from candle_core.errors import warn_user
from candle_core.parameters.command_line import keyword_parser, parse_keyword_flags
from candle_core.parameters.registry import KeywordRegistry, build_registry
from candle_core.parameters.resolve import ResolvedParameters, resolve_parameters
from candle_core.plugin_manager import CandlePluginManager, get_plugin_manager


@dataclass(frozen=True)
class BenchmarkParameters:
    """A benchmark, its keyword registry and its resolved parameters."""

    manager: CandlePluginManager
    benchmark: Benchmark
    registry: KeywordRegistry
    resolved: ResolvedParameters

    @property
    def values(self) -> dict[str, Any]:
        return self.resolved.values

    def warn(self) -> None:
        """Show the warnings met while resolving (standard error, one line each)."""
        for message in self.resolved.warnings:
            warn_user(message)


def resolve_benchmark(
    benchmark: str | Benchmark,
    argv: Sequence[str] = (),
    overrides: Mapping[str, Any] | None = None,
    strict: bool = False,
    prog: str = "candle",
    override_source: str = "search",
) -> BenchmarkParameters:
    """Resolve ``benchmark`` (a name or an object) with keyword flags ``argv`` and ``overrides``
    (a search's values, the highest precedence). Raises ``CandleError`` naming every bad flag,
    file line or value; the caller shows ``resolved.warnings`` its own way."""
    manager = get_plugin_manager()
    found = manager.benchmark(benchmark) if isinstance(benchmark, str) else benchmark
    registry = build_registry(found, manager)
    flags = parse_keyword_flags(registry, argv, prog)
    resolved = resolve_parameters(
        found, registry, flags, overrides=overrides, override_source=override_source, strict=strict
    )
    return BenchmarkParameters(manager, found, registry, resolved)


def keyword_help(benchmark: str | Benchmark, prog: str) -> str:
    """The ``-h`` text of a benchmark: every keyword it accepts."""
    manager = get_plugin_manager()
    found = manager.benchmark(benchmark) if isinstance(benchmark, str) else benchmark
    return keyword_parser(build_registry(found, manager), prog, found.desc).format_help()

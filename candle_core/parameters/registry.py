"""The set of keywords a benchmark accepts: standard ones, plugins' ones, the benchmark's own."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from candle_core.errors import CandleError
from candle_core.parameters.keyword import Keyword

if TYPE_CHECKING:
    import pluggy

    from candle_core.benchmark import Benchmark


class KeywordRegistry:
    """Keywords by name and by abbreviation. A later definition of a name replaces the earlier."""

    def __init__(self) -> None:
        self._by_name: dict[str, Keyword] = {}
        self._by_abv: dict[str, str] = {}

    def add(self, definitions: Iterable[Mapping[str, Any]], origin: str) -> None:
        """Add CANDLE-style definition dicts; ``origin`` names who defines them (for messages)."""
        if isinstance(definitions, Mapping):
            raise CandleError(f"{origin}: keyword definitions must be a list of dicts, got one dict")
        for definition in definitions:
            self.add_keyword(Keyword.from_definition(definition, origin))

    def add_keyword(self, keyword: Keyword) -> None:
        previous = self._by_name.get(keyword.name)
        if previous is not None and previous.abv and self._by_abv.get(previous.abv) == keyword.name:
            del self._by_abv[previous.abv]
        if keyword.abv:
            holder = self._by_abv.get(keyword.abv)
            if holder is not None and holder != keyword.name:
                # As CANDLE's argparse 'resolve' handler: the newer definition takes the flag.
                self._by_name[holder].abv = None
            self._by_abv[keyword.abv] = keyword.name
        self._by_name[keyword.name] = keyword

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Keyword:
        return self._by_name[name]

    def __iter__(self) -> Iterator[Keyword]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def names(self) -> list[str]:
        return list(self._by_name)

    def get(self, name: str) -> Keyword | None:
        return self._by_name.get(name)


def build_registry(benchmark: Benchmark, plugin_manager: pluggy.PluginManager) -> KeywordRegistry:
    """Standard and plugin keywords (hook ``candle_add_parameters``), then the benchmark's own."""
    registry = KeywordRegistry()
    # pluggy calls the most recently registered plugin first; the core's standard keywords
    # are registered first and marked tryfirst, so plugins can redefine them.
    plugin_manager.hook.candle_add_parameters(registry=registry)
    registry.add(benchmark.additional_definitions, origin=f"benchmark {benchmark.name}")
    return registry

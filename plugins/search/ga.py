"""Registers the genetic algorithm (``--algorithm ga``); DEAP is imported only when it is used."""

from __future__ import annotations

from candle_core import hookimpl


def _load():
    from candle_plugins.search.deap_ga import GeneticSearch

    return GeneticSearch


@hookimpl
def candle_search_algorithms():
    return {"ga": _load}

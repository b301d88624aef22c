"""HyperSpace: split the space into overlapping subspaces and run one model-based search
(``mbo``) in each, side by side.

Each numeric (int, float) parameter's range is cut into two halves that overlap by ``overlap``
(phi, default 0.25, as a fraction of the range), giving 2^D subspaces for D split parameters —
at most ``max_split`` of them (default 4, the first numeric ones; others keep their full range).
Free workers are served by the subspaces in turn; each subspace's optimizer learns only from its
own trials, and the search reports the best trial over all. Trials are named ``s<subspace>_<n>``.
The ``mbo`` options (``surrogate``, ``initial_design``, ...) pass through to every subspace.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

from candle_core import hookimpl
from candle_core.contracts import SearchAlgorithm
from candle_core.search.space import SearchSpace
from candle_core.search.trial import Proposal, Trial
from candle_plugins.search.mbo import ModelBasedSearch

LABEL = re.compile(r"^s(\d+)_(\d+)$")
MBO_OPTIONS = ("surrogate", "initial_design", "max_history", "candidates", "trees", "lcb_lambda")


def subspaces(space: SearchSpace, overlap: float, max_split: int) -> list[SearchSpace]:
    numeric = [p for p in space if p.type in ("int", "float") and p.upper > p.lower][:max_split]
    halves = []
    for parameter in numeric:
        width = parameter.upper - parameter.lower
        middle = parameter.lower + width / 2
        low_half = (parameter.lower, min(parameter.upper, middle + overlap * width / 2))
        high_half = (max(parameter.lower, middle - overlap * width / 2), parameter.upper)
        if parameter.type == "int":
            low_half = (low_half[0], round(low_half[1]))
            high_half = (round(high_half[0]), high_half[1])
        halves.append([replace(parameter, lower=a, upper=b) for a, b in (low_half, high_half)])
    result = []
    for choice in itertools.product(*halves) if halves else [()]:
        narrowed = {p.name: p for p in choice}
        parameters = [narrowed.get(p.name, p) for p in space]
        result.append(SearchSpace(parameters, source=f"{space.source} (subspace {len(result)})"))
    return result


class HyperSpace(SearchAlgorithm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        overlap = self.option("overlap", 0.25, float, "[0, 1)")
        spaces = subspaces(self.space, overlap, self.option("max_split", 4, int, "[0, inf)"))
        share = max(1, self.budget // len(spaces))
        mbo_options = {k: v for k, v in self.options.items() if k in MBO_OPTIONS}
        mbo_options.setdefault("initial_design", max(2, min(share // 2, 2 * len(self.space))))
        self.optimizers = [
            ModelBasedSearch(s, self.objective, int(self.rng.integers(2**31)), share, 1, mbo_options) for s in spaces
        ]
        self.counts = [0] * len(spaces)
        self.turn = 0

    def ask(self, n: int) -> list[Proposal]:
        proposals = []
        for _ in range(n):
            index = self.turn % len(self.optimizers)
            self.turn += 1
            (params,) = self.optimizers[index].ask(1)
            proposals.append(Proposal(params, label=f"s{index}_{self.counts[index]}"))
            self.counts[index] += 1
        return proposals

    def tell(self, trial: Trial) -> None:
        super().tell(trial)
        match = LABEL.match(trial.label or "")
        if match:
            index = int(match.group(1))
            self.optimizers[index].tell(trial)
            self.counts[index] = max(self.counts[index], int(match.group(2)) + 1)


@hookimpl
def candle_search_algorithms():
    return {"hyperspace": lambda: HyperSpace}

"""Population-based training: a population trained in rounds; after each round the bottom
``fraction`` (default 20%) copy the weights and hyperparameters of a member of the top
``fraction`` and perturb them (numbers times 0.8 or 1.2, within bounds; other values redrawn
with probability ``resample``, default 0.25); the others continue with their own.

Options: ``population`` (default 8), ``round_epochs`` (default 2): round r trains every member
to ``(r + 1) · round_epochs`` epochs, continuing from the checkpoint of the member (or the copied
member) of round r − 1. The budget is population × rounds. Trials are named ``m<member>_r<round>``.
"""

from __future__ import annotations

import math
import re

from candle_core import hookimpl
from candle_core.contracts import SearchAlgorithm
from candle_core.errors import CandleError
from candle_core.search.trial import Proposal

LABEL = re.compile(r"^m(\d+)_r(\d+)$")


class PopulationBasedTraining(SearchAlgorithm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "epochs" in self.space.names:
            raise CandleError(f"{self.space.source}: PBT sets 'epochs' itself; remove it from the space")
        self.population = self.option("population", 8, int, "[2, inf)")
        self.round_epochs = self.option("round_epochs", 2, int, "[1, inf)")
        self.fraction = self.option("fraction", 0.2, float, "(0, 0.5]")
        self.resample = self.option("resample", 0.25, float, "[0, 1]")
        self.asked: set[str] = set()

    def _round_results(self, round_: int) -> dict[int, object]:
        found = {}
        for trial in self.told:
            match = LABEL.match(trial.label or "")
            if match and int(match.group(2)) == round_:
                found[int(match.group(1))] = trial
        return found

    def _current_round(self) -> int:
        round_ = 0
        while len(self._round_results(round_)) == self.population:
            round_ += 1
        return round_

    def ask(self, n: int) -> list[Proposal]:
        round_ = self._current_round()
        proposals = []
        for member in range(self.population):
            label = f"m{member}_r{round_}"
            if len(proposals) == n or label in self.asked or label in {t.label for t in self.told}:
                continue
            if round_ == 0:
                params, parent = self.space.sample(self.rng), None
            else:
                params, parent = self._next(member, round_ - 1)
            self.asked.add(label)
            params = {**params, "epochs": (round_ + 1) * self.round_epochs}
            last = (round_ + 1) * self.population >= self.budget  # nothing continues from the last round
            proposals.append(Proposal(params, label=label, warm_start=parent, checkpoint=not last))
        return proposals

    def protected(self) -> set[int]:
        round_ = self._current_round()
        return {t.id for t in self._round_results(round_ - 1).values()} if round_ else set()

    def _next(self, member: int, previous: int) -> tuple[dict, int]:
        results = self._round_results(previous)
        ranked = sorted(
            results,
            key=lambda m: math.inf if results[m].objective is None else self.objective.loss(results[m].objective),
        )
        cut = max(1, math.ceil(self.population * self.fraction))
        own = results[member]
        if member not in ranked[-cut:]:
            return {k: v for k, v in own.params.items() if k != "epochs"}, own.id
        source = results[ranked[int(self.rng.integers(cut))]]  # exploit: copy a top member ...
        return self._perturb({k: v for k, v in source.params.items() if k != "epochs"}), source.id  # ... explore

    def _perturb(self, params: dict) -> dict:
        perturbed = dict(params)
        for parameter in self.space:
            value = params[parameter.name]
            if parameter.type in ("int", "float"):
                moved = min(max(value * (0.8 if self.rng.random() < 0.5 else 1.2), parameter.lower), parameter.upper)
                perturbed[parameter.name] = int(round(moved)) if parameter.type == "int" else float(moved)
            elif self.rng.random() < self.resample:
                perturbed[parameter.name] = parameter.sample(self.rng)
        return perturbed


@hookimpl
def candle_search_algorithms():
    return {"pbt": lambda: PopulationBasedTraining}

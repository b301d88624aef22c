"""Asynchronous successive halving (ASHA) and its Hyperband variant: multi-fidelity searches in
which a trial's budget is its number of epochs.

Rungs give budgets ``min_epochs · eta^k`` up to ``max_epochs`` (options; defaults 1, 9, eta 3).
Whenever a worker is free, the best configuration of the highest rung that is in the top
1/eta of its rung and not yet promoted goes up one rung — continuing from its own checkpoint —
and otherwise a new random configuration starts at the bottom rung (ASHA) or, in turn, at each
rung (``hyperband``: brackets starting at every rung, run asynchronously side by side).
The space must not contain ``epochs``: the algorithm sets it.
"""

from __future__ import annotations

import json

from candle_core import hookimpl
from candle_core.contracts import SearchAlgorithm
from candle_core.errors import CandleError
from candle_core.search.trial import Proposal, Trial
from candle_core.status import TrialStatus


def _config_key(params: dict) -> str:
    return json.dumps({k: v for k, v in params.items() if k != "epochs"}, sort_keys=True, default=str)


class SuccessiveHalving(SearchAlgorithm):
    brackets = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "epochs" in self.space.names:
            raise CandleError(f"{self.space.source}: ASHA sets 'epochs' itself; remove it from the space")
        low, high = self.option("min_epochs", 1, int, "[1, inf)"), self.option("max_epochs", 9, int, "[1, inf)")
        self.eta = self.option("eta", 3, int, "[2, inf)")
        if low < 1 or high < low or self.eta < 2:
            raise CandleError("asha needs 1 <= min_epochs <= max_epochs and eta >= 2")
        self.budgets = []
        budget = low
        while budget < high:
            self.budgets.append(budget)
            budget *= self.eta
        self.budgets.append(high)
        self.pending: set[tuple[str, int]] = set()  # (configuration, rung) asked but not told
        self.started = 0

    def _rung(self, trial_or_params) -> int:
        params = trial_or_params.params if isinstance(trial_or_params, Trial) else trial_or_params
        return self.budgets.index(int(params["epochs"]))

    def tell(self, trial: Trial) -> None:
        super().tell(trial)
        self.pending.discard((_config_key(trial.params), self._rung(trial)))

    def _reached(self) -> set[tuple[str, int]]:
        return {(_config_key(t.params), self._rung(t)) for t in self.told} | self.pending

    def protected(self) -> set[int]:
        """Finished trials below the top rung whose configuration has not gone higher yet."""
        reached = self._reached()
        return {
            t.id
            for t in self.told
            if t.status == TrialStatus.OK
            and self._rung(t) < len(self.budgets) - 1
            and (_config_key(t.params), self._rung(t) + 1) not in reached
        }

    def _promotion(self) -> Proposal | None:
        reached = self._reached()
        for rung in range(len(self.budgets) - 2, -1, -1):
            done = [
                t for t in self.told if t.status == TrialStatus.OK and t.objective is not None and self._rung(t) == rung
            ]
            done.sort(key=lambda t: self.objective.loss(t.objective))
            for trial in done[: len(done) // self.eta]:
                key = _config_key(trial.params)
                if (key, rung + 1) not in reached:
                    params = {**trial.params, "epochs": self.budgets[rung + 1]}
                    return Proposal(params, warm_start=trial.id, checkpoint=True)
        return None

    def _new_configuration(self) -> dict:
        """A configuration to start at the bottom of a bracket: random here, model-based in BOHB."""
        return self.space.sample(self.rng)

    def ask(self, n: int) -> list[Proposal]:
        proposals = []
        for _ in range(n):
            proposal = self._promotion()
            if proposal is None:
                rung = self.started % len(self.budgets) if self.brackets else 0
                self.started += 1
                proposal = Proposal({**self._new_configuration(), "epochs": self.budgets[rung]}, checkpoint=True)
            self.pending.add((_config_key(proposal.params), self._rung(proposal.params)))
            proposals.append(proposal)
        return proposals


class Hyperband(SuccessiveHalving):
    brackets = True


@hookimpl
def candle_search_algorithms():
    return {"asha": lambda: SuccessiveHalving, "hyperband": lambda: Hyperband}

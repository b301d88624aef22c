"""BOHB-style multi-fidelity search: Hyperband's asynchronous brackets, with new configurations
proposed by the Gaussian-process model of ``mbo`` instead of drawn at random.

The model is fitted on the highest rung (epochs budget) that has at least D + 2 finished
configurations, for D parameters: the most faithful budget with enough data (Falkner et al.
2018). New configurations are chosen by what they add to the expected improvement of those still
running (``gp.BatchExpectedImprovement``), so parallel workers do not start near-twins. A
fraction ``random_fraction`` (default 1/3, as in BOHB) of new configurations stays random, which
keeps the model honest where it has not looked. Options are those of ``hyperband``
(``min_epochs``, ``max_epochs``, ``eta``) plus ``random_fraction``.
"""

from __future__ import annotations

import json
import math

import numpy as np

from candle_core import hookimpl
from candle_core.status import TrialStatus
from candle_plugins.search.asha import Hyperband
from candle_plugins.search.mbo import with_failures


class ModelBasedHyperband(Hyperband):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.random_fraction = self.option("random_fraction", 1 / 3, float, "[0, 1]")
        self._proposer = None

    def _rung_data(self) -> tuple[list[dict], np.ndarray]:
        """Configurations and losses of the highest rung with enough finished trials (failed
        ones at the worst loss of their rung); empty if no rung has enough."""
        for rung in range(len(self.budgets) - 1, -1, -1):
            trials = [t for t in self.told if self._rung(t) == rung]
            points, losses = with_failures(trials, self.objective)
            scored = sum(
                t.status == TrialStatus.OK and t.objective is not None and math.isfinite(t.objective) for t in trials
            )
            if scored >= len(self.space) + 2 and len(set(losses.tolist())) >= 2:
                return [{name: p[name] for name in self.space.names} for p in points], losses
        return [], np.empty(0)

    def _new_configuration(self) -> dict:
        if self.rng.random() < self.random_fraction:
            return self.space.sample(self.rng)
        configurations, losses = self._rung_data()
        if not configurations:
            return self.space.sample(self.rng)
        from candle_plugins.search.gp import Proposer

        if self._proposer is None:
            self._proposer = Proposer(self.space, self.rng)
        encoding = self._proposer.encoding
        x = np.array([encoding.encode(c) for c in configurations])
        running = [json.loads(key) for key, _ in self.pending]
        pending = np.array([encoding.encode(c) for c in running]) if running else None
        return encoding.decode(self._proposer.propose(x, losses, 1, pending)[0])


@hookimpl
def candle_search_algorithms():
    return {"bohb": lambda: ModelBasedHyperband}

"""Run a search algorithm against an analytic function in this process (no trial processes):
the quick way to compare algorithms (tests, benchmarks/perf/search_quality.py)."""

from __future__ import annotations

from candle_benchmarks.testfn.functions import FUNCTIONS
from candle_core.search.space import Parameter, SearchSpace
from candle_core.search.trial import Objective, Proposal, Trial

BOUNDS = {
    "branin": [(-5.0, 10.0), (0.0, 15.0)],
    "hartmann6": [(0.0, 1.0)] * 6,
    "rosenbrock": [(-2.0, 2.0)] * 4,
    "sphere": [(-5.0, 5.0)] * 6,
}


def function_space(name: str) -> SearchSpace:
    return SearchSpace(
        [Parameter(f"x{i + 1}", "float", lower=low, upper=high) for i, (low, high) in enumerate(BOUNDS[name])],
        source=name,
    )


def optimize(algorithm_class, function: str, budget: int, seed: int, workers: int = 4, options=None) -> list[float]:
    """Best-so-far value after each evaluation, proposing ``workers`` points at a time."""
    space = function_space(function)
    algorithm = algorithm_class(space, Objective(), seed, budget, workers, options or {})
    f = FUNCTIONS[function]
    best, curve, next_id = float("inf"), [], 0
    while len(curve) < budget:
        batch = algorithm.ask(min(workers, budget - len(curve)))
        if not batch:
            break
        for proposal in batch:
            if not isinstance(proposal, Proposal):
                proposal = Proposal(proposal)
            params = proposal.params
            value = f([params[name] for name in space.names])
            algorithm.tell(Trial(next_id, params, "ok", value, label=proposal.label))
            next_id += 1
            best = min(best, value)
            curve.append(best)
    return curve

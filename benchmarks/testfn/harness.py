"""Run a search algorithm against an analytic problem in this process (no trial processes):
the quick way to compare algorithms (tests, benchmarks/perf/search_quality.py)."""

from __future__ import annotations

from candle_benchmarks.testfn.problems import problem, with_fidelity
from candle_core.objective import Objective
from candle_core.plugin_manager import get_plugin_manager
from candle_core.search.trial import Proposal, Trial


def optimize(algorithm_class, function: str, budget: int, seed: int, workers: int = 4, options=None) -> list[float]:
    """Best-so-far value after each evaluation, asking ``workers`` points at a time and telling
    them all before the next ask."""
    task = problem(function)
    algorithm = algorithm_class(task.space, Objective(), seed, budget, workers, options or {})
    best, curve, next_id = float("inf"), [], 0
    while len(curve) < budget:
        batch = algorithm.ask(min(workers, budget - len(curve)))
        if not batch:
            break
        for proposal in batch:
            if not isinstance(proposal, Proposal):
                proposal = Proposal(proposal)
            value = task.evaluate(proposal.params)
            algorithm.tell(Trial(next_id, proposal.params, status="ok", objective=value, label=proposal.label))
            next_id += 1
            best = min(best, value)
            curve.append(best)
    return curve


def optimize_fidelity(
    name: str, function: str, budget: int, seed: int, max_epochs: int = 9
) -> tuple[float, list[dict]]:
    """Run the multi-fidelity search ``name`` (asha, hyperband, bohb) on ``function`` made
    multi-fidelity (``with_fidelity``), 4 proposals per ask; return the true regret of the best
    trial run at ``max_epochs`` and every trial's parameters."""

    base = problem(function)
    task = with_fidelity(base, max_epochs)
    options = {"max_epochs": max_epochs}
    search = get_plugin_manager().component("search", name)()(task.space, Objective(), seed, budget, 4, options)
    best, asked = float("inf"), []
    while len(asked) < budget:
        for proposal in search.ask(4):
            search.tell(
                Trial(
                    len(asked),
                    proposal.params,
                    status="ok",
                    objective=task.evaluate(proposal.params),
                    label=proposal.label,
                )
            )
            asked.append(proposal.params)
            if proposal.params["epochs"] == max_epochs:
                best = min(best, base.evaluate(proposal.params) - base.minimum)
    return best, asked

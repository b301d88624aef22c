"""A genetic algorithm (DEAP), as CANDLE's GA workflow: mu+lambda, tournament selection.

Defaults are CANDLE's: ``population`` 16, ``tournament`` 4, ``mutation`` 0.8, ``crossover`` 0.2.
The first generation is random; afterwards every proposal comes from DEAP's ``varOr`` applied to
mu parents chosen by tournament among all trials evaluated so far (parents and offspring
together: mu+lambda). Mutation follows each parameter's type: a gaussian of width ``sigma``
(default a tenth of the range) for numbers, a step of about ``sigma`` places for ordered values,
a fresh draw for categorical and logical ones; crossover is uniform.
"""

from __future__ import annotations

import random

from deap import algorithms, base, tools

from candle_core.contracts import SearchAlgorithm
from candle_core.search.space import Parameter


class _Fitness(base.Fitness):
    weights = (-1.0,)  # losses are minimized


class _Individual(list):
    def __init__(self, values, loss: float | None = None):
        super().__init__(values)
        self.fitness = _Fitness()
        if loss is not None:
            self.fitness.values = (loss,)


def _mutate_value(parameter: Parameter, value, rng: random.Random):
    if parameter.type in ("int", "float"):
        sigma = parameter.sigma or (parameter.upper - parameter.lower) / 10
        moved = min(max(value + rng.gauss(0, sigma), parameter.lower), parameter.upper)
        return int(round(moved)) if parameter.type == "int" else float(moved)
    if parameter.type == "ordered":
        index = parameter.values.index(value) + int(round(rng.gauss(0, parameter.sigma or 1)))
        return parameter.values[min(max(index, 0), len(parameter.values) - 1)]
    return rng.choice(parameter.choices)


class GeneticSearch(SearchAlgorithm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mu = self.option("population", 16, int, "[2, inf)")
        self.tournament = self.option("tournament", 4, int, "[1, inf)")
        self.mutpb = self.option("mutation", 0.8, float, "[0, 1]")
        self.cxpb = self.option("crossover", 0.2, float, "[0, 1]")
        self.asked = 0
        self.random = random.Random(int(self.rng.integers(2**31)))
        self.toolbox = base.Toolbox()
        self.toolbox.register("mate", tools.cxUniform, indpb=0.5)
        self.toolbox.register("mutate", self._mutate)

    def _mutate(self, individual: _Individual):
        for i, parameter in enumerate(self.space):
            if self.random.random() < 0.5 or len(self.space) == 1:
                individual[i] = _mutate_value(parameter, individual[i], self.random)
        return (individual,)

    def ask(self, n: int) -> list[dict]:
        scored = self.scored()
        if self.asked + len(self.told) < self.mu or len(scored) < 2:
            proposals = [self.space.sample(self.rng) for _ in range(n)]
        else:
            pool = [_Individual([params[name] for name in self.space.names], loss) for params, loss in scored]
            state = random.getstate()  # DEAP draws from the random module: use our own stream
            random.setstate(self.random.getstate())
            try:
                parents = tools.selTournament(pool, k=min(self.mu, len(pool)), tournsize=self.tournament)
                offspring = algorithms.varOr(parents, self.toolbox, lambda_=n, cxpb=self.cxpb, mutpb=self.mutpb)
            finally:
                self.random.setstate(random.getstate())
                random.setstate(state)
            proposals = [dict(zip(self.space.names, child, strict=True)) for child in offspring]
        self.asked += len(proposals)
        return proposals

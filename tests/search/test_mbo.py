"""Model-based search (plugins/search/mbo.py): failures, running trials, warm starts, options."""

import warnings

import numpy as np
import pytest

from candle_benchmarks.testfn.problems import problem
from candle_core.errors import CandleError
from candle_core.objective import Objective
from candle_core.search.store import DATABASE, ResultsStore
from candle_core.search.trial import Trial
from candle_plugins.search.mbo import ModelBasedSearch


def test_failed_trials_steer_the_search_away_and_it_goes_on():
    task = problem("branin")
    search = ModelBasedSearch(task.space, Objective(), 0, 30, 1, {})
    model_points = []
    for i in range(30):
        (params,) = search.ask(1)
        if i >= search.initial_design:
            model_points.append(params)
        crashed = params["x1"] < 0  # half the box crashes, as a bad region of hyperparameters would
        search.tell(
            Trial(i, params, status="failed" if crashed else "ok", objective=None if crashed else task.evaluate(params))
        )
    assert len(model_points) == 25
    assert sum(p["x1"] >= 0 for p in model_points) >= 20


@pytest.mark.parametrize(
    ("budget", "workers", "design"),
    [(100, 1, 12), (40, 1, 8), (20, 1, 7), (100, 16, 16)],  # 2D; a fifth of the budget; D + 1; workers
)
def test_initial_design_grows_with_the_dimension_where_the_budget_allows(budget, workers, design):
    task = problem("hartmann6")
    search = ModelBasedSearch(task.space, Objective(), 0, budget, workers, {})
    assert search.initial_design == design == len(search.design)
    assert ModelBasedSearch(task.space, Objective(), 0, budget, workers, {"initial_design": 3}).initial_design == 3


def test_running_trials_are_not_proposed_again():
    task = problem("mixed")
    search = ModelBasedSearch(task.space, Objective(), 1, 30, 4, {"initial_design": 6})
    for i, params in enumerate(search.ask(6)):
        search.tell(Trial(i, params, status="ok", objective=task.evaluate(params)))
    first, second = search.ask(2), search.ask(2)  # nothing told in between: four workers busy
    keys = {tuple(sorted(p.items())) for p in first + second}
    assert len(keys) == 4
    for p in first + second:
        assert isinstance(p["k"], int) and p["c"] in ("a", "b", "c", "d")


def _earlier_experiment(folder, task, points):
    store = ResultsStore(folder / DATABASE)
    for i, params in enumerate(points):
        store.start_trial(i, params, str(folder / f"run{i}"))
        store.finish_trial(i, "ok", task.evaluate(params), [], {}, None)
    return folder


def test_warm_start_uses_earlier_trials_that_fit_the_space(tmp_path):
    task = problem("branin")
    rng = np.random.default_rng(0)
    points = [task.space.sample(rng) for _ in range(12)]
    earlier = _earlier_experiment(tmp_path, task, [*points, {"x1": 100.0, "x2": 1.0}])  # last: off the box
    search = ModelBasedSearch(task.space, Objective(), 0, 20, 1, {"warm_start": str(earlier)})
    assert len(search.prior) == 12 and not search.design  # no initial design left to run
    (first,) = search.ask(1)
    assert task.evaluate(first) < np.percentile([task.evaluate(p) for p in points], 25)


def test_warm_start_from_a_missing_experiment_is_a_clear_error(tmp_path):
    task = problem("branin")
    with pytest.raises(CandleError, match=r"warm_start=.*no results.sqlite there"):
        ModelBasedSearch(task.space, Objective(), 0, 20, 1, {"warm_start": str(tmp_path / "nowhere")})


def test_options_are_checked_and_options_of_the_other_surrogate_warn():
    task = problem("branin")
    with pytest.raises(CandleError, match="surrogate=svm: expected one of gp, forest"):
        ModelBasedSearch(task.space, Objective(), 0, 20, 1, {"surrogate": "svm"})
    with pytest.warns(UserWarning, match="trees: no effect with surrogate=gp"):
        ModelBasedSearch(task.space, Objective(), 0, 20, 1, {"trees": "10"})
    with pytest.raises(CandleError, match="outputs=log: expected one of evidence, standardized, hedge"):
        ModelBasedSearch(task.space, Objective(), 0, 20, 1, {"outputs": "log"})
    with pytest.raises(CandleError, match="length_scale_samples"):
        ModelBasedSearch(task.space, Objective(), 0, 20, 1, {"length_scale_samples": "0"})
    with pytest.warns(UserWarning, match="length_scale_samples: no effect with surrogate=forest"):
        ModelBasedSearch(task.space, Objective(), 0, 20, 1, {"surrogate": "forest", "length_scale_samples": "2"})
    with pytest.warns(UserWarning, match="outputs: no effect with surrogate=forest"):
        ModelBasedSearch(task.space, Objective(), 0, 20, 1, {"surrogate": "forest", "outputs": "hedge"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ModelBasedSearch(task.space, Objective(), 0, 20, 1, {"surrogate": "forest", "trees": "10"})
        ModelBasedSearch(task.space, Objective(), 0, 20, 1, {"outputs": "hedge"})

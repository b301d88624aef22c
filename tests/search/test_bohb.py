"""BOHB (plugins/search/bohb.py): Hyperband's brackets with model-based new configurations."""

import numpy as np

from candle_benchmarks.testfn.harness import optimize_fidelity


def test_bohb_finds_better_configurations_than_hyperband():
    bohb = [optimize_fidelity("bohb", "branin", 48, seed)[0] for seed in range(4)]
    hyperband = [optimize_fidelity("hyperband", "branin", 48, seed)[0] for seed in range(4)]
    assert np.median(bohb) < np.median(hyperband) / 3


def test_bohb_keeps_hyperbands_brackets_and_is_reproducible():
    _, trials = optimize_fidelity("bohb", "branin", 28, 5)
    assert {p["epochs"] for p in trials} == {1, 3, 9}
    assert optimize_fidelity("bohb", "branin", 28, 5)[1] == trials
    assert optimize_fidelity("bohb", "branin", 28, 6)[1] != trials

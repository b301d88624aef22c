"""The Gaussian-process surrogate and its LogEI proposals (plugins/search/gp.py)."""

import math

import numpy as np
from scipy.stats import norm, spearmanr, yeojohnson
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from sklearn.preprocessing import PowerTransformer

from candle_core.search.space import Parameter, SearchSpace
from candle_plugins.search.gp import (
    AveragedImprovement,
    BatchExpectedImprovement,
    ExpectedImprovement,
    GaussianProcessModel,
    Proposer,
    log_h,
    output_warps,
)


def test_log_h_matches_the_closed_form_and_stays_finite_far_in_the_tail():
    z = np.linspace(-8, 5, 27)
    assert np.allclose(log_h(z), np.log(norm.pdf(z) + z * norm.cdf(z)), rtol=1e-6, atol=1e-9)
    tail = log_h(np.array([-40.0, -400.0]))
    assert np.all(np.isfinite(tail))
    assert np.allclose(
        tail,
        -0.5 * np.array([40.0, 400.0]) ** 2 - np.log(np.array([40.0, 400.0]) ** 2) - 0.5 * math.log(2 * math.pi),
        atol=1e-2,
    )  # asymptote: φ(z)/z²


def test_model_interpolates_a_smooth_function_and_is_unsure_away_from_data():
    rng = np.random.default_rng(0)
    x = rng.random((20, 2))
    f = lambda x: np.sin(4 * x[:, 0]) + x[:, 1] ** 2  # noqa: E731
    model = GaussianProcessModel(x, f(x), seed=0)
    new = rng.random((50, 2)) * 0.6 + 0.2
    mean, std = model.predict(new)
    assert spearmanr(mean, f(new)).statistic > 0.95  # in warped units: the order is what counts
    assert np.all(model.predict(x)[1] < np.median(std))


def test_heavy_tailed_losses_are_warped_and_noise_is_fitted():
    rng = np.random.default_rng(1)
    x = rng.random((30, 2))
    heavy = np.exp(8 * x[:, 0])  # four decades, like Rosenbrock's
    assert GaussianProcessModel(x, heavy, seed=0).warp == "yeo-johnson"
    noisy = np.sin(3 * x[:, 0]) + rng.normal(0, 0.3, 30)
    noise = math.exp(GaussianProcessModel(x, noisy, seed=0).theta[-1])
    assert noise > 0.05  # a noise variance of the standardized data, not an interpolating fit


def _fitted_power(y: np.ndarray) -> float:
    u = ((y - y.mean()) / y.std()).reshape(-1, 1)
    return float(PowerTransformer(method="yeo-johnson", standardize=False).fit(u).lambdas_[0])


def test_the_warp_compresses_large_losses_at_most_logarithmically():
    x = np.random.default_rng(2).random(40)
    heavy, mild = np.exp(10 * x), -np.exp(2 * x)  # fitted powers below 0 and above 0
    assert _fitted_power(heavy) < -0.5 and _fitted_power(mild) > 0.5
    for y, power in ((heavy, 0.0), (mild, _fitted_power(mild))):  # the first raised to 0, the second kept
        (_, u, plain_jacobian), (name, z, log_jacobian) = output_warps(y)
        expected = yeojohnson(u, lmbda=power)
        assert name == "yeo-johnson" and plain_jacobian == 0.0
        assert np.allclose(z, (expected - expected.mean()) / expected.std())
        # the evidence's Jacobian term: Σ log dz/dy of the fitted map, less the Σ log du/dy it shares
        step = 1e-6
        slopes = (yeojohnson(u + step, lmbda=power) - expected) / step / expected.std()
        assert math.isclose(log_jacobian, np.sum(np.log(slopes)), rel_tol=1e-4)


def test_batch_improvement_is_the_expectation_over_joint_outcomes_of_running_points():
    rng = np.random.default_rng(2)
    x = rng.random((15, 2))
    model = GaussianProcessModel(x, np.sin(5 * x[:, 0]) * np.cos(3 * x[:, 1]), seed=0)
    running = np.array([[1.0, 0.0], [0.5, 0.5]])  # the corner of the largest EI, a known middle
    candidates = np.array([[0.98, 0.02], [0.1, 1.0], [0.9, 0.15]])
    value = np.exp(BatchExpectedImprovement(model, running, np.random.default_rng(3), samples=4096)(candidates))
    # brute force: E[max(0, min(incumbent, f(running)) − f(x))] − E[max(0, incumbent − f(running))]
    mean, covariance = model.joint(np.vstack([running, candidates]))
    draws = np.random.default_rng(4).multivariate_normal(mean, covariance, size=400_000)
    best, floor = model.incumbent(), draws[:, :2].min(axis=1)
    before = np.maximum(0, best - floor).mean()
    after = [np.maximum(0, best - np.minimum(floor, draws[:, 2 + i])).mean() - before for i in range(3)]
    assert np.allclose(value, after, rtol=0.05, atol=1e-5)
    alone = np.exp(ExpectedImprovement(model)(candidates))
    assert value[0] < 0.2 * alone[0]  # next to a running point: little is left to gain
    assert value[1] > 0.5 * alone[1]  # far from both: most of it


def test_length_scale_samples_follow_the_laplace_approximation_of_their_posterior():
    x = np.random.default_rng(5).random((40, 2))
    model = GaussianProcessModel(x, np.sin(6 * x[:, 0]) + 0.3 * x[:, 1], seed=0)
    samples = model.length_scale_samples(3000, np.random.default_rng(6))
    assert samples[0] is model
    assert all(np.array_equal(m.theta[[0, -1]], model.theta[[0, -1]]) for m in samples)  # amplitude, noise
    drawn = np.log([m.length_scales() for m in samples[1:]])
    # the posterior's precision, computed here by plain inversion: ½ tr(K⁻¹∂ᵢK K⁻¹∂ⱼK) + the prior's
    kernel = (ConstantKernel() * Matern([1.0, 1.0], nu=2.5) + WhiteKernel()).clone_with_theta(model.theta)
    covariance, gradient = kernel(x, eval_gradient=True)
    solved = [np.linalg.solve(covariance, gradient[:, :, 1 + i]) for i in range(2)]
    fitted = np.log(model.length_scales())
    precision = 0.5 * np.array([[np.trace(a @ b) for b in solved] for a in solved])
    precision += np.diag(0.4 * np.exp(2 * fitted) + 0.4 * np.exp(-2 * fitted))
    assert np.linalg.eigvalsh(precision).min() > 1  # so no standard deviation is capped
    expected = np.linalg.inv(precision)
    assert np.allclose(drawn.mean(axis=0), fitted, atol=4 * np.sqrt(np.diag(expected) / 3000))
    assert np.allclose(np.cov(drawn.T), expected, rtol=0.1, atol=0.05 * np.sqrt(np.outer(*[np.diag(expected)] * 2)))


def test_averaged_improvement_is_the_mean_improvement_of_models_with_drawn_length_scales():
    space = SearchSpace([Parameter(n, "float", lower=0.0, upper=1.0) for n in "xy"], source="test")
    tried = np.random.default_rng(7).random((12, 2))
    losses = (tried[:, 0] - 0.3) ** 2
    plain = Proposer(space, np.random.default_rng(0), length_scale_samples=1)
    assert isinstance(plain._acquisition(GaussianProcessModel(tried, losses, 0), tried[:0]), ExpectedImprovement)
    averaged = Proposer(space, np.random.default_rng(0))
    for running in (tried[:0], np.array([[0.3, 0.5]])):
        acquisition = averaged._acquisition(GaussianProcessModel(tried, losses, 0), running)
        assert isinstance(acquisition, AveragedImprovement) and len(acquisition.parts) == 4
        scales = np.array([part.model.length_scales() for part in acquisition.parts])
        assert len({tuple(row) for row in scales}) == 4
        points = np.random.default_rng(8).random((50, 2))
        mean = np.mean([np.exp(part(points)) for part in acquisition.parts], axis=0)
        assert np.allclose(np.exp(acquisition(points)), mean, rtol=1e-9)


def test_a_batch_has_no_near_twins_and_respects_the_space():
    space = SearchSpace(
        [
            Parameter("x", "float", lower=0.0, upper=1.0),
            Parameter("k", "int", lower=0, upper=5),
            Parameter("c", "categorical", values=("a", "b", "c")),
        ],
        source="test",
    )
    proposer = Proposer(space, np.random.default_rng(0))
    encoding = proposer.encoding
    tried = encoding.sample(12, np.random.default_rng(1))
    losses = np.array([(encoding.decode(t)["x"] - 0.3) ** 2 + encoding.decode(t)["k"] for t in tried])
    batch = np.array(proposer.propose(tried, losses, 4))
    for i, point in enumerate(batch):
        assert np.allclose(encoding.project(point[None, :])[0], point)  # snapped: ints, one category
        others = np.vstack([tried, np.delete(batch, i, axis=0)])
        assert np.min(np.max(np.abs(others - point), axis=1)) > 1e-3


def test_output_choices_fit_the_warp_they_name_and_hedge_takes_turns():
    space = SearchSpace(
        [Parameter("x", "float", lower=0.0, upper=1.0), Parameter("y", "float", lower=0.0, upper=1.0)], source="test"
    )
    tried = np.random.default_rng(1).random((30, 2))
    heavy = np.exp(8 * tried[:, 0]) + tried[:, 1]  # the evidence prefers the Yeo-Johnson warp
    used = {}
    for outputs in ("evidence", "standardized", "hedge"):
        proposer = Proposer(space, np.random.default_rng(0), outputs=outputs)
        first = np.array(proposer.propose(tried, heavy, 3))
        batch = np.vstack([first, proposer.propose(tried, heavy, 1, pending=first)])  # 3 still running
        used[outputs] = proposer.warps
        for i, point in enumerate(batch):
            others = np.vstack([tried, np.delete(batch, i, axis=0)])
            assert np.min(np.max(np.abs(others - point), axis=1)) > 1e-3  # both models see every point
    assert used["evidence"] == ["yeo-johnson"] * 4
    assert used["standardized"] == ["standardized"] * 4
    assert used["hedge"] == ["yeo-johnson", "standardized", "yeo-johnson", "standardized"]

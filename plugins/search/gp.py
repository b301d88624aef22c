"""Gaussian-process proposals: the surrogate and acquisition shared by ``mbo`` and ``bohb``.

The model is scikit-learn's ``GaussianProcessRegressor`` with a Matérn-5/2 kernel, one length
scale per feature (ARD), times a fitted amplitude, plus a fitted white-noise term with a floor
(noisy objectives are smoothed rather than interpolated). Its hyperparameters maximize the
marginal likelihood times Optuna GPSampler's priors (a MAP fit, L-BFGS-B started from the
previous fit). Inputs are the space's unit-cube features (``encoding.SpaceEncoding``: log
scales, integers, one-hot categories). Outputs are standardized, or Yeo-Johnson warped when
that explains them better (the larger marginal likelihood, Jacobian included), which tames heavy
tails such as Rosenbrock's five decades. The warp's power λ is kept ≥ 0, so large losses are
compressed at most logarithmically: fitted freely it fell to about −2 on Rosenbrock and on the
mixed problem late in a search, and below 0 the warp maps every loss above the mean into a
bounded interval (of width 1/|λ|), a plateau; with the bound mbo's median regret at budget 100
fell 2.6–4x on Rosenbrock (docs/performance.md).

Proposals maximize log expected improvement (LogEI, Ament et al. 2023) over the best posterior
mean at a tried point, averaged over the fitted model and three more whose length scales are
drawn around the fitted ones (``GaussianProcessModel.length_scale_samples``): a point-estimate
of the length scales can decide that an input barely matters and then predict, confidently,
nothing good where it has not looked (on hartmann6 at budget 100, 5 of 10 seeds stayed in a
local minimum); the average keeps some improvement there (docs/performance.md). The samples come
from a Laplace approximation of the length scales' posterior (the Fisher information of the
marginal likelihood plus the prior's curvature). The maximization is multi-start: the best of
2,048 random points, others drawn from them in proportion to their EI, and the best tried point
each start L-BFGS-B on the continuous features (in length-scale units, climbing the fitted
model's LogEI, a quarter of the cost; a start moves only where the average improves); integers
and categories are then snapped and improved by trying their neighbours (each other category,
each integer ±1), so the acquisition is always evaluated at the point that will be run. A batch
(several proposals, or proposals while other trials run) is chosen one point at a time by what
each adds to the expected improvement of the points already chosen or running (the greedy step
of qLogEI, as Optuna's GPSampler does for running trials): the expectation runs over joint draws
of their outcomes, so a point next to a running one is worth little, but not nothing where that
outcome is uncertain. Against a Kriging believer (each running point joins the data at the
model's mean, which removes the improvement around it) this cut the median regret at q=4 up to
7x and sent fewer proposals to the corners of the space (docs/performance.md).

With ``outputs="hedge"`` proposals take turns between two models: the one whose warp the
evidence prefers, and one on plainly standardized outputs; every point chosen by either model
counts as running for both (an option: it cost more on the test problems than it gained).
"""

from __future__ import annotations

import math
import warnings
from functools import cached_property

import numpy as np
from scipy.optimize import minimize
from scipy.special import erfcx, log_ndtr, logsumexp

from candle_plugins.search.encoding import SpaceEncoding

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
NOISE_FLOOR = 1e-6  # of the standardized variance, as Optuna's
LENGTH_SCALE_BOUNDS = (1e-2, 2e1)  # on the unit cube
MIN_WARP_POWER = 0.0  # Yeo-Johnson's λ: at most a logarithm's compression of large losses


def log_h(z: np.ndarray) -> np.ndarray:
    """log(φ(z) + zΦ(z)), the log of expected improvement in units of σ, accurate for very
    negative z (where EI underflows) through the scaled complementary error function."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    upper = z > -1
    zu = z[upper]
    out[upper] = np.log(np.exp(-0.5 * zu**2 - _LOG_SQRT_2PI) + zu * np.exp(log_ndtr(zu)))
    zl = z[~upper]
    ratio = np.maximum(1 + zl * math.sqrt(math.pi / 2) * erfcx(-zl / math.sqrt(2)), 1e-300)
    out[~upper] = -0.5 * zl**2 - _LOG_SQRT_2PI + np.log(ratio)
    return out


def log_prior(theta: np.ndarray) -> tuple[float, np.ndarray]:
    """Log prior density (and gradient) over the kernel's log-hyperparameters
    [log amplitude, log length scales..., log noise], as Optuna's GPSampler sets it: Gamma(2, 1)
    on the amplitude, ∝ exp(-0.1/λ - 0.1·λ) on each inverse squared length scale λ (mode at
    length 1 on the unit cube: against the short scales that chase noise), Gamma(1.1, 30) on the
    noise variance (mode 0.003 of the standardized variance)."""
    amplitude, scales, noise = theta[0], theta[1:-1], theta[-1]
    gradient = np.empty_like(theta)
    value = amplitude - math.exp(amplitude)
    gradient[0] = 1 - math.exp(amplitude)
    value += float(np.sum(-0.1 * np.exp(2 * scales) - 0.1 * np.exp(-2 * scales)))
    gradient[1:-1] = -0.2 * np.exp(2 * scales) + 0.2 * np.exp(-2 * scales)
    value += 0.1 * noise - 30 * math.exp(noise)
    gradient[-1] = 0.1 - 30 * math.exp(noise)
    return value, gradient


def length_scale_prior_curvature(log_scales: np.ndarray) -> np.ndarray:
    """−d²/ds² of ``log_prior`` at each log length scale s: the prior's share of the posterior's
    precision."""
    return 0.4 * np.exp(2 * log_scales) + 0.4 * np.exp(-2 * log_scales)


def _sklearn_kernel(dimensions: int):
    """Amplitude × Matérn-5/2 (one length scale per feature) + white noise with a floor, in
    scikit-learn's kernel algebra, at its starting hyperparameters."""
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    return ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
        length_scale=np.full(dimensions, 0.5), length_scale_bounds=LENGTH_SCALE_BOUNDS, nu=2.5
    ) + WhiteKernel(1e-3, (NOISE_FLOOR, 1.0))


def _fit_hyperparameters(objective, theta: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, float]:
    """scikit-learn's hyperparameter optimizer, L-BFGS-B, stopped at a relative change of 1e-6
    or a projected gradient of 1e-3 (its defaults, 2e-9 and 1e-5, took a sixth of a proposal's
    time for digits no proposal depends on)."""
    result = minimize(
        objective, theta, jac=True, method="L-BFGS-B", bounds=bounds, options={"ftol": 1e-6, "gtol": 1e-3}
    )
    return result.x, float(result.fun)


def _map_regressor():
    from sklearn.gaussian_process import GaussianProcessRegressor

    class MapRegressor(GaussianProcessRegressor):
        """scikit-learn's GP whose hyperparameters maximize the marginal likelihood times the
        prior above (a maximum a posteriori fit) instead of the likelihood alone."""

        def log_marginal_likelihood(self, theta=None, eval_gradient=False, clone_kernel=True):
            result = super().log_marginal_likelihood(theta, eval_gradient, clone_kernel)
            prior, gradient = log_prior(self.kernel_.theta if theta is None else np.asarray(theta))
            if eval_gradient:
                return result[0] + prior, result[1] + gradient
            return result + prior

    return MapRegressor


def output_warps(y: np.ndarray) -> list[tuple[str, np.ndarray, float]]:
    """Candidate transforms of the losses ``y``: (name, transformed values, log Jacobian
    Σ log |dz/dy| up to a term they share). Standardized, and Yeo-Johnson warped after
    standardizing (scale-free; its power λ fitted by maximum likelihood, then raised to
    ``MIN_WARP_POWER`` if below) and standardized again; the model keeps whichever explains
    ``y`` better."""
    from scipy.stats import yeojohnson
    from sklearn.preprocessing import PowerTransformer

    if np.ptp(y) == 0:
        return [("constant", np.zeros_like(y), 0.0)]
    u = (y - y.mean()) / y.std()
    power = PowerTransformer(method="yeo-johnson", standardize=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        power.fit(u.reshape(-1, 1))
    lam = max(float(power.lambdas_[0]), MIN_WARP_POWER)
    warped = yeojohnson(u, lmbda=lam)
    scale = float(warped.std())
    z = (warped - warped.mean()) / scale
    slope = np.where(u >= 0, (lam - 1) * np.log1p(np.abs(u)), (1 - lam) * np.log1p(np.abs(u)))
    return [("standardized", u, 0.0), ("yeo-johnson", z, float(slope.sum()) - len(y) * math.log(scale))]


class GaussianProcessModel:
    """A GP fitted to features ``x`` (n, D) and losses ``y`` (n,), predicting in its
    transformed units (``warp``: standardized or Yeo-Johnson, chosen by marginal likelihood, or
    the one named by ``only``). ``previous`` maps a warp's name to the hyperparameters of an
    earlier fit, where its fit starts (else from a default: unit amplitude, length scales 0.5,
    noise 1e-3)."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        seed: int,
        previous: dict[str, np.ndarray] | None = None,
        only: str | None = None,
    ) -> None:
        kernel = _sklearn_kernel(x.shape[1])
        regressor, previous = _map_regressor(), previous or {}
        best, best_evidence = None, -math.inf
        self.fits: dict[str, np.ndarray] = dict(previous)
        warps = output_warps(np.asarray(y, dtype=float))
        if any(name == only for name, _, _ in warps):
            warps = [warp for warp in warps if warp[0] == only]
        for name, z, log_jacobian in warps:
            start = previous.get(name, kernel.theta)
            gp = regressor(
                kernel.clone_with_theta(start), optimizer=_fit_hyperparameters, normalize_y=False, random_state=seed
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # bound-hitting and convergence notes of L-BFGS-B
                gp.fit(x, z)
            self.fits[name] = gp.kernel_.theta
            evidence = gp.log_marginal_likelihood_value_ + log_jacobian
            if evidence > best_evidence:
                best, best_evidence, self.warp, self.z = gp, evidence, name, z
        self.theta = best.kernel_.theta
        self._condition(x, self.z)

    def _condition(self, x: np.ndarray, z: np.ndarray) -> None:
        """Cache what predictions need: the data, the inverse Cholesky factor L⁻¹ of K and L⁻¹z."""
        from scipy.linalg import cholesky, solve_triangular

        self.x, self.z = x, z
        lower = cholesky(self._kernel(x, x) + self.noise() * np.eye(len(x)), lower=True)
        self._lower_inverse = solve_triangular(lower, np.eye(len(x)), lower=True)
        self._white_z = self._lower_inverse @ z

    def _kernel(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Amplitude × Matérn-5/2 with the fitted length scales (as scikit-learn's kernel_)."""
        from scipy.spatial.distance import cdist

        scales = self.length_scales()
        d = math.sqrt(5) * cdist(a / scales, b / scales)
        return math.exp(self.theta[0]) * (1 + d + d**2 / 3) * np.exp(-d)

    def noise(self) -> float:
        """The fitted noise variance (in transformed units), with a jitter for stability."""
        return math.exp(self.theta[-1]) + 1e-10

    def whiten(self, x: np.ndarray) -> np.ndarray:
        """L⁻¹k(data, x) for each row of ``x`` (K = LLᵀ): the mean is its product with L⁻¹z,
        the variance the amplitude less its squared norm."""
        return self._kernel(np.atleast_2d(x), self.x) @ self._lower_inverse.T

    def std(self, v: np.ndarray) -> np.ndarray:
        """Standard deviation of the latent function at the points whose ``whiten`` is ``v``."""
        return np.sqrt(np.maximum(math.exp(self.theta[0]) - np.einsum("ij,ij->i", v, v), 1e-18))

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of the latent function (the fitted noise left out)."""
        v = self.whiten(x)
        return v @ self._white_z, self.std(v)

    def moved(self, shifts: np.ndarray) -> np.ndarray:
        """L⁻¹z with the last m values of z moved by each row of ``shifts`` (s, m), as columns
        (n, s): ``whiten(x)`` times column j is the mean had those values been so."""
        return self._white_z[:, None] + self._lower_inverse[:, -shifts.shape[1] :] @ shifts.T

    def joint(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of noisy observations at the rows of ``x`` (m, D), jointly."""
        v = self.whiten(x)
        covariance = self._kernel(x, x) - v @ v.T + self.noise() * np.eye(len(x))
        return v @ self._white_z, (covariance + covariance.T) / 2

    def believe(self, x: np.ndarray) -> GaussianProcessModel:
        """This model with ``x`` (m, D) added at its predicted means, hyperparameters kept."""
        mean, _ = self.predict(x)
        return self._conditioned(self.theta, np.vstack([self.x, x]), np.concatenate([self.z, mean]))

    def _conditioned(self, theta: np.ndarray, x: np.ndarray, z: np.ndarray) -> GaussianProcessModel:
        """A model with this warp and hyperparameters ``theta`` on data ``x``, ``z`` (no fit)."""
        clone = object.__new__(GaussianProcessModel)
        clone.warp, clone.theta = self.warp, theta
        clone._condition(x, z)
        return clone

    @cached_property
    def _length_scale_spread(self) -> np.ndarray:
        """A square root of the covariance of the log length scales' Laplace approximation
        (precision: the marginal likelihood's Fisher information ½ tr(K⁻¹∂ᵢK K⁻¹∂ⱼK) plus the
        prior's curvature; amplitude and noise held at the fit), each direction's standard
        deviation capped at 1 (a factor e on the length scales). Computed once per model: a
        batch draws samples for each of its proposals."""
        dimensions = self.x.shape[1]
        _, gradient = _sklearn_kernel(dimensions).clone_with_theta(self.theta)(self.x, eval_gradient=True)
        whitened = np.stack(
            [(self._lower_inverse @ gradient[:, :, 1 + i] @ self._lower_inverse.T).ravel() for i in range(dimensions)]
        )
        precision = 0.5 * whitened @ whitened.T + np.diag(length_scale_prior_curvature(self.theta[1:-1]))
        values, vectors = np.linalg.eigh(precision)
        return vectors / np.sqrt(np.maximum(values, 1.0))

    def length_scale_samples(self, count: int, rng: np.random.Generator) -> list[GaussianProcessModel]:
        """This model and ``count`` − 1 others on the same data whose log length scales are drawn
        around the fitted ones from a Laplace approximation of their posterior
        (``_length_scale_spread``)."""
        if count <= 1:
            return [self]
        scales, root = self.theta[1:-1], self._length_scale_spread
        low, high = np.log(LENGTH_SCALE_BOUNDS)
        models = [self]
        for _ in range(count - 1):
            theta = self.theta.copy()
            theta[1:-1] = np.clip(scales + root @ rng.standard_normal(len(scales)), low, high)
            models.append(self._conditioned(theta, self.x, self.z))
        return models

    def length_scales(self) -> np.ndarray:
        """The fitted length scale of each feature."""
        return np.exp(self.theta[1:-1])

    def incumbent(self) -> float:
        """The best posterior mean at a point of the data (noise-robust best value)."""
        mean, _ = self.predict(self.x)
        return float(mean.min())


class ExpectedImprovement:
    """LogEI of ``model`` at points: the log of the expected improvement over its incumbent."""

    def __init__(self, model: GaussianProcessModel) -> None:
        self.model, self.best = model, model.incumbent()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        mean, std = self.model.predict(x)
        return np.log(std) + log_h((self.best - mean) / std)


class BatchExpectedImprovement:
    """What a point adds to the expected improvement of the points already running (``pending``):
    log E[max(0, min(best, f(pending)) − f(x))], the sequential-greedy step of qEI (qLogEI).

    The expectation runs over ``samples`` quasi-random joint draws of the pending outcomes; in
    each, f(x) is Gaussian given the data and those outcomes, so its part is exact (LogEI over
    that draw's threshold): smooth in x, unlike a Monte Carlo draw of f(x) too. A point near a
    pending one earns little (their outcomes move together), but not nothing where that outcome
    is uncertain, so a batch can probe one promising basin from several sides."""

    def __init__(
        self, model: GaussianProcessModel, pending: np.ndarray, rng: np.random.Generator, samples: int = 128
    ) -> None:
        from scipy.stats import norm, qmc

        mean, covariance = model.joint(pending)
        values, vectors = np.linalg.eigh(covariance)
        root = vectors * np.sqrt(np.maximum(values, 0.0))
        uniform = qmc.Sobol(len(pending), scramble=True, seed=rng).random(samples)
        draws = mean + norm.ppf(np.clip(uniform, 1e-9, 1 - 1e-9)) @ root.T  # (samples, pending)
        self.thresholds = np.minimum(model.incumbent(), draws.min(axis=1))
        self.model = model.believe(pending)
        self.shifted = self.model.moved(draws - mean)  # the mean at x in draw s: whiten(x) @ shifted[:, s]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        v = self.model.whiten(x)
        std = self.model.std(v)
        z = (self.thresholds[None, :] - v @ self.shifted) / std[:, None]
        return np.log(std) + logsumexp(log_h(z), axis=1) - math.log(len(self.thresholds))


class AveragedImprovement:
    """The log of the mean of several acquisitions' improvements (``parts``, each LogEI or its
    batch step on a model with other length scales, the fitted model's first)."""

    def __init__(self, parts: list[ExpectedImprovement] | list[BatchExpectedImprovement]) -> None:
        self.parts, self.model = parts, parts[0].model

    def __call__(self, x: np.ndarray) -> np.ndarray:
        logs = np.stack([part(x) for part in self.parts])
        return logsumexp(logs, axis=0) - math.log(len(self.parts))


Acquisition = ExpectedImprovement | BatchExpectedImprovement | AveragedImprovement


def fitted_part(acquisition: Acquisition) -> ExpectedImprovement | BatchExpectedImprovement:
    """The part of ``acquisition`` that uses the fitted model's own length scales."""
    return acquisition.parts[0] if isinstance(acquisition, AveragedImprovement) else acquisition


class Proposer:
    """Chooses points of a space by LogEI on a GP of the trials so far. ``outputs``: "evidence"
    (the output warp the evidence prefers), "standardized" (never a warp) or "hedge"
    (even-numbered proposals as "evidence", odd-numbered ones as "standardized"). The
    evidence's warp is chosen by fitting both every ``reselect_every`` proposals; in between
    only the chosen warp is refitted (half the fitting time, most of a proposal's cost).
    ``length_scale_samples``: models the acquisition averages over (1: the fitted one only)."""

    PLAIN = "standardized"

    def __init__(
        self,
        space,
        rng: np.random.Generator,
        raw_samples: int = 2048,
        starts: int = 10,
        reselect_every: int = 10,
        outputs: str = "evidence",
        length_scale_samples: int = 4,
    ) -> None:
        self.outputs, self.length_scale_samples = outputs, length_scale_samples
        self.encoding = SpaceEncoding(space)
        self.rng = rng
        self.raw_samples, self.starts = raw_samples, starts
        self.reselect_every = reselect_every
        self.fits: dict[str, np.ndarray] = {}
        self.warp: str | None = None
        self._fitted = 0
        self.warps: list[str] = []  # the output warp behind each proposal so far

    def propose(self, x: np.ndarray, y: np.ndarray, n: int, pending: np.ndarray | None = None) -> list[np.ndarray]:
        """``n`` feature vectors to try next, given tried features ``x`` with losses ``y`` and
        the features of trials still running (``pending``). Runs on one thread: its matrices
        are small, and BLAS threads only contend (three times slower on two cores)."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            return self._propose(x, y, n, pending)

    def _fit(self, x: np.ndarray, y: np.ndarray, plain: bool) -> GaussianProcessModel:
        """The plain model, or the one with the evidence's warp (re-chosen every
        ``reselect_every`` such fits)."""
        seed = int(self.rng.integers(2**31))
        if plain:
            model = GaussianProcessModel(x, y, seed, self.fits, self.PLAIN)
            self.fits = model.fits
            return model
        only = None if self._fitted % self.reselect_every == 0 else self.warp
        model = GaussianProcessModel(x, y, seed, self.fits, only)
        self.fits, self.warp, self._fitted = model.fits, model.warp, self._fitted + 1
        return model

    def _propose(self, x: np.ndarray, y: np.ndarray, n: int, pending: np.ndarray | None) -> list[np.ndarray]:
        if self.outputs == "hedge":
            turns = [(len(self.warps) + k) % 2 == 1 for k in range(n)]
        else:
            turns = [self.outputs == self.PLAIN] * n
        models = {plain: self._fit(x, y, plain) for plain in sorted(set(turns))}
        running = pending if pending is not None and len(pending) else np.empty((0, x.shape[1]))
        chosen: list[np.ndarray] = []
        for plain in turns:
            model = models[plain]
            acquisition = self._acquisition(model, running)
            point = self._maximize(acquisition, np.vstack([x, running]))
            chosen.append(point)
            self.warps.append(model.warp)
            running = np.vstack([running, point])
        return chosen

    def _acquisition(self, model: GaussianProcessModel, running: np.ndarray) -> Acquisition:
        models = model.length_scale_samples(self.length_scale_samples, self.rng)
        if not len(running):
            parts = [ExpectedImprovement(m) for m in models]
        else:  # 128 joint draws of the running outcomes in all, at least 16 a model
            draws = max(16, 128 // len(models))
            parts = [BatchExpectedImprovement(m, running, self.rng, samples=draws) for m in models]
        return AveragedImprovement(parts) if len(parts) > 1 else parts[0]

    def _maximize(self, acquisition: Acquisition, taken: np.ndarray) -> np.ndarray:
        encoding, model = self.encoding, acquisition.model
        top = model.x[np.argsort(model.z)[:5]]
        local = top[self.rng.integers(len(top), size=self.raw_samples // 8)]
        local = encoding.project(local + self.rng.normal(0, 0.05, local.shape))
        raw = np.vstack([encoding.sample(self.raw_samples, self.rng), local])
        scores = acquisition(raw)
        first = int(np.argmax(scores))
        weights = np.exp(scores - scores[first])  # roulette: starts drawn in proportion to EI
        weights[first] = 0.0
        count = min(self.starts - 2, int(np.count_nonzero(weights > 0)))
        chosen = [first]
        if count > 0:
            chosen += list(self.rng.choice(len(raw), size=count, replace=False, p=weights / weights.sum()))
        starts = np.vstack([raw[chosen], model.x[np.argmin(model.z)][None, :]])
        ascended = self._ascend(model, fitted_part(acquisition), starts)
        starts = np.where((acquisition(ascended) >= acquisition(starts))[:, None], ascended, starts)
        starts = encoding.project(starts)
        for _ in range(3):  # discrete neighbours: categories, integers ±1
            starts = self._improve_discrete(acquisition, starts)
        scores = acquisition(starts)
        for index in np.argsort(-scores):
            if not _near(starts[index], taken):
                return starts[index]
        fresh = encoding.sample(64, self.rng)
        fresh = fresh[[not _near(f, taken) for f in fresh]]
        if len(fresh):
            return fresh[int(np.argmax(acquisition(fresh)))]
        return starts[int(np.argmax(scores))]

    def _ascend(
        self,
        model: GaussianProcessModel,
        acquisition: ExpectedImprovement | BatchExpectedImprovement,
        starts: np.ndarray,
    ) -> np.ndarray:
        """L-BFGS-B on the continuous features from each start on its own (a start keeps its
        place unless the ascent improved it), in units of the kernel's length scales so that
        every direction is equally curved, with forward-difference gradients from one batched
        prediction per step."""
        columns = self.encoding.continuous
        if not len(columns):
            return starts
        scales = model.length_scales()[columns]
        step = 1e-6

        moved = starts.copy()
        for i, start in enumerate(starts):

            def value_and_gradient(scaled: np.ndarray, start=start) -> tuple[float, np.ndarray]:
                points = np.repeat(start[None, :], len(columns) + 1, axis=0)
                points[:, columns] = scaled * scales
                points[1:, columns] += step * np.eye(len(columns)) * scales
                scores = -acquisition(points)
                return float(scores[0]), (scores[1:] - scores[0]) / step

            x0 = start[columns] / scales
            bounds = [(0.0, (1.0 - 1e-6) / s) for s in scales]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = minimize(
                    value_and_gradient,
                    x0,
                    jac=True,
                    method="L-BFGS-B",
                    bounds=bounds,
                    options={"maxiter": 100, "gtol": 1e-2},
                )
            if result.fun < value_and_gradient(x0)[0]:
                moved[i, columns] = result.x * scales
        return moved

    def _improve_discrete(self, acquisition: Acquisition, points: np.ndarray) -> np.ndarray:
        if not self.encoding.discrete:
            return points
        improved = points.copy()
        current = acquisition(points)
        for i, point in enumerate(points):
            neighbours = self.encoding.neighbours(point)
            if not len(neighbours):
                continue
            scores = acquisition(neighbours)
            if scores.max() > current[i]:
                improved[i] = neighbours[int(np.argmax(scores))]
        return improved


def _near(point: np.ndarray, others: np.ndarray, tolerance: float = 1e-6) -> bool:
    return bool(len(others)) and bool(np.min(np.max(np.abs(others - point), axis=1)) < tolerance)

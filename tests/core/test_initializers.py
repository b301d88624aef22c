import math

import numpy as np
import pytest

from candle_core.initializers import compute_fans, initial_kernel, initial_weights
from candle_core.model import Conv1D, Dense, Flatten, ModelSpec, OptimizerSpec


def test_fans_follow_keras():
    assert compute_fans((300, 200)) == (300, 200)
    assert compute_fans((20, 1, 128)) == (20, 2560)  # conv kernel (k, in, out)
    assert compute_fans((49, 5, 4)) == (245, 196)  # locally connected (L', k*in, out)


@pytest.mark.parametrize(
    "name, uniform, scale",
    [
        ("glorot_uniform", True, 2 / 700),
        ("he_uniform", True, 2 / 400),
        ("lecun_uniform", True, 1 / 400),
        ("glorot_normal", False, 2 / 700),
        ("he_normal", False, 2 / 400),
        ("lecun_normal", False, 1 / 400),
    ],
)
def test_variance_and_family(name, uniform, scale):
    values = initial_kernel(name, (400, 300), np.random.default_rng(0))
    assert values.dtype == np.float32
    assert values.var() == pytest.approx(scale, rel=0.03)
    limit = math.sqrt(3 * scale)
    if uniform:
        assert np.abs(values).max() <= limit
    else:  # a truncated normal, not a uniform (CANDLE's he_normal defect): tails beyond the uniform limit
        assert np.abs(values).max() > limit
        assert np.abs(values).max() <= 2 * math.sqrt(scale) / 0.87962566103423978 + 1e-6


def test_same_seed_same_weights_and_zero_biases():
    spec = ModelSpec("m", (30, 1), [Conv1D(4, 3), Flatten(), Dense(2)], "mse", OptimizerSpec("sgd", 0.01))
    first = initial_weights(spec.infos(), "glorot_uniform", 5)
    second = initial_weights(spec.infos(), "glorot_uniform", 5)
    other = initial_weights(spec.infos(), "glorot_uniform", 6)
    assert all(np.array_equal(a["kernel"], b["kernel"]) for a, b in zip(first, second, strict=True) if a)
    assert not np.array_equal(first[0]["kernel"], other[0]["kernel"])
    assert not first[0]["bias"].any() and first[0]["kernel"].shape == (3, 1, 4)

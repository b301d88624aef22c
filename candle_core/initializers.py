"""Initial weights, drawn once in numpy with Keras 3's rules, for every backend.

Because both backends load the same arrays, a benchmark built with ``--backend torch`` and
``--backend keras`` under one seed starts from identical weights. Kernels use the chosen
initializer, biases start at zero, batch-norm scales at one (Keras' defaults).
"""

from __future__ import annotations

import math

import numpy as np

from candle_core.model import LayerInfo, Shape

# Keras draws its *_normal initializers from a normal truncated at two standard deviations;
# this factor is the standard deviation of such a truncated unit normal.
TRUNCATION_STDDEV = 0.87962566103423978


def compute_fans(shape: Shape) -> tuple[float, float]:
    """Keras' fans: (in, out) for a matrix; a kernel's leading dimensions multiply both."""
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _uniform(rng: np.random.Generator, shape: Shape, limit: float) -> np.ndarray:
    values = rng.random(shape, dtype=np.float32)
    values *= np.float32(2 * limit)
    values -= np.float32(limit)
    return values


def _truncated_normal(rng: np.random.Generator, shape: Shape, stddev: float) -> np.ndarray:
    values = rng.standard_normal(shape, dtype=np.float32)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()), dtype=np.float32)
        outside = np.abs(values) > 2
    return values * np.float32(stddev)


def initial_kernel(name: str, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """A kernel drawn with the Keras initializer ``name``."""
    fan_in, fan_out = compute_fans(shape)
    if name == "constant":
        return np.zeros(shape, dtype=np.float32)
    if name == "uniform":
        return _uniform(rng, shape, 0.05)
    if name == "normal":
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(0.05)).astype(np.float32)
    scale = {
        "glorot_uniform": 2.0 / (fan_in + fan_out),
        "glorot_normal": 2.0 / (fan_in + fan_out),
        "lecun_uniform": 1.0 / fan_in,
        "lecun_normal": 1.0 / fan_in,
        "he_uniform": 2.0 / fan_in,
        "he_normal": 2.0 / fan_in,
    }[name]
    if name.endswith("_uniform"):
        return _uniform(rng, shape, math.sqrt(3.0 * scale))
    return _truncated_normal(rng, shape, math.sqrt(scale) / TRUNCATION_STDDEV)


def initial_weights(infos: list[LayerInfo], initializer: str, seed: int) -> list[dict[str, np.ndarray]]:
    """Every layer's initial weights (Keras layout), in layer order."""
    rng = np.random.default_rng(seed)
    weights = []
    for info in infos:
        arrays = {}
        for name, shape in info.weights.items():
            if name.endswith("kernel"):
                arrays[name] = initial_kernel(initializer, shape, rng)
            elif name.endswith(("gamma", "moving_variance")):
                arrays[name] = np.ones(shape, dtype=np.float32)
            else:
                arrays[name] = np.zeros(shape, dtype=np.float32)
        weights.append(arrays)
    return weights

"""candle_lib's PyTorch helpers, with the same defaults and formulas as the Keras side (and as
``candle run --backend torch``): Keras-exact optimizers, Keras-rule initial weights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from candle.helper_utils import optimizer_spec, seed_python_and_numpy, set_torch_threads
from candle_core.initializers import initial_kernel
from candle_plugins.backends.torch.backend import torch_optimizer

ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "sigmoid": torch.nn.Sigmoid,
    "tanh": torch.nn.Tanh,
    "elu": torch.nn.ELU,
    "selu": torch.nn.SELU,
    "softmax": lambda: torch.nn.Softmax(dim=-1),
    "linear": torch.nn.Identity,
}


def set_pytorch_seed(seed: int) -> None:
    """Seed Python, numpy and torch (all devices)."""
    seed_python_and_numpy(seed)
    torch.manual_seed(seed)


def set_pytorch_threads() -> None:
    """torch's thread pools from ``NUM_INTRA_THREADS`` / ``NUM_INTER_THREADS``, when set."""
    set_torch_threads()


def get_pytorch_function(name: str) -> torch.nn.Module:
    """A loss module by Keras name: mse, binary_crossentropy, categorical_crossentropy, smoothL1."""
    losses = {
        "mse": torch.nn.MSELoss,
        "binary_crossentropy": torch.nn.BCELoss,
        "categorical_crossentropy": torch.nn.CrossEntropyLoss,
        "smoothL1": torch.nn.SmoothL1Loss,
    }
    if name not in losses:
        raise ValueError(f"no pytorch function named {name!r} (one of {', '.join(losses)})")
    return losses[name]()


def build_pytorch_activation(activation: str) -> torch.nn.Module:
    """An activation module by Keras name."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[activation]()


def build_pytorch_optimizer(
    model: torch.nn.Module, optimizer: str, lr: float, kerasDefaults: Mapping[str, Any], trainable_only: bool = True
) -> torch.optim.Optimizer:
    """The optimizer ``candle run --backend torch`` builds: Keras 3's update rules and defaults
    (``kerasDefaults``), over the model's (trainable) parameters."""
    parameters = [p for p in model.parameters() if p.requires_grad or not trainable_only]
    spec = optimizer_spec(optimizer, lr, kerasDefaults)
    return torch_optimizer(parameters, spec)


@torch.no_grad()
def pytorch_initialize(
    weights: torch.Tensor,
    initializer: str,
    kerasDefaults: Mapping[str, Any],
    seed: int | None = None,
    constant: float = 0.0,
) -> torch.Tensor:
    """Fill ``weights`` in place by Keras' rule for ``initializer`` and return it. torch's layout
    (out, in, kernel...) is mapped to Keras' (kernel..., in, out), so fans match Keras'."""
    if initializer == "constant":
        return weights.fill_(constant)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    if initializer == "uniform":
        low, high = kerasDefaults["minval_uniform"], kerasDefaults["maxval_uniform"]
        return weights.copy_(torch.rand(weights.shape, generator=generator) * (high - low) + low)
    if initializer == "normal":
        mean, std = kerasDefaults["mean_normal"], kerasDefaults["stddev_normal"]
        return weights.copy_(torch.randn(weights.shape, generator=generator) * std + mean)
    shape = tuple(weights.shape)
    keras_shape = shape if len(shape) < 2 else (*shape[2:], shape[1], shape[0])
    try:
        array = initial_kernel(initializer, keras_shape, np.random.default_rng(seed))
    except KeyError:
        raise ValueError(f"initializer {initializer!r} is not known") from None
    if len(shape) >= 2:
        n = len(shape)
        array = np.transpose(array, (n - 1, n - 2, *range(n - 2)))
    return weights.copy_(torch.from_numpy(np.ascontiguousarray(array)))


def pytorch_xent(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of logits ``y_pred`` against class indices (or probabilities) ``y_true``."""
    return F.cross_entropy(y_pred, y_true)


def pytorch_mse(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(y_pred, y_true)

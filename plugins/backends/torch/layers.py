"""candle's neutral layers as PyTorch modules, on channels-last (batch, length, channels) tensors.

Channels-last is Keras' layout, so ``Flatten`` orders features as Keras does, and it is what
oneDNN's fastest CPU convolutions want: a (batch, length, channels) tensor is viewed, without
a copy, as a channels-last (batch, channels, 1, length) image for ``conv2d``/``max_pool2d``.
A thin convolution (input channels x kernel <= 64, e.g. NT3's first layer on one channel) is
an unfold and one matrix product instead, which is several times faster than oneDNN there.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from candle_core import model as spec

THIN_CONVOLUTION = 64

ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": F.relu,
    "elu": F.elu,
    "selu": F.selu,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": F.hardsigmoid,
    "tanh": torch.tanh,
    "softmax": lambda x: F.softmax(x, dim=-1),
    "softplus": F.softplus,
    "softsign": F.softsign,
    "swish": F.silu,
    "gelu": F.gelu,
}


def _parameter(array: np.ndarray | None, shape: tuple[int, ...]) -> nn.Parameter:
    if array is None:
        return nn.Parameter(torch.zeros(shape))
    # a contiguous copy: never alias the caller's array, never inherit a transposed array's strides
    return nn.Parameter(torch.tensor(np.ascontiguousarray(array), dtype=torch.float32))


def _as_image(x: torch.Tensor) -> torch.Tensor:
    """(N, L, C) -> channels-last (N, C, 1, L), a view."""
    return x.permute(0, 2, 1).unsqueeze(2)


def _from_image(x: torch.Tensor) -> torch.Tensor:
    """channels-last (N, C, 1, L) -> (N, L, C), a view."""
    return x.squeeze(2).permute(0, 2, 1)


class Conv1D(nn.Module):
    def __init__(self, layer: spec.Conv1D, kernel: np.ndarray | None, bias: np.ndarray | None, in_channels: int):
        super().__init__()
        k, out = layer.kernel_size, layer.filters
        # stored in torch's conv layout (out, in, 1, k), from Keras' (k, in, out)
        torch_kernel = None if kernel is None else np.transpose(kernel, (2, 1, 0))[:, :, None, :]
        self.weight = _parameter(torch_kernel, (out, in_channels, 1, k))
        self.bias = _parameter(bias, (out,))
        self.kernel_size, self.stride = k, layer.strides
        self.thin = in_channels * k <= THIN_CONVOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.thin:
            patches = x.unfold(1, self.kernel_size, self.stride)  # (N, L', C, k)
            n, length = patches.shape[:2]
            matrix = self.weight.reshape(self.weight.shape[0], -1).t()  # (C*k, out), same (c, k) order
            out = torch.addmm(self.bias, patches.reshape(n * length, -1), matrix)
            return out.view(n, length, -1)
        weight = self.weight.contiguous(memory_format=torch.channels_last)
        return _from_image(F.conv2d(_as_image(x), weight, self.bias, stride=(1, self.stride)))


class LocallyConnected1D(nn.Module):
    def __init__(self, layer: spec.LocallyConnected1D, kernel, bias, shapes: dict[str, tuple[int, ...]]):
        super().__init__()
        self.weight = _parameter(kernel, shapes["kernel"])  # (L', k*C, out), Keras' layout
        self.bias = _parameter(bias, shapes["bias"])  # (L', out)
        self.kernel_size, self.stride = layer.kernel_size, layer.strides

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        patches = x.unfold(1, self.kernel_size, self.stride).transpose(2, 3)  # (N, L', k, C)
        patches = patches.reshape(*patches.shape[:2], -1)
        return torch.einsum("nlf,lfo->nlo", patches, self.weight) + self.bias


class MaxPool1D(nn.Module):
    def __init__(self, layer: spec.MaxPool1D):
        super().__init__()
        self.size, self.stride = layer.pool_size, layer.strides or layer.pool_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.size == 1 and self.stride == 1:
            return x
        return _from_image(F.max_pool2d(_as_image(x), (1, self.size), (1, self.stride)))


def _as_nchw(x: torch.Tensor) -> torch.Tensor:
    """(N, H, W, C) -> channels-last (N, C, H, W), a view."""
    return x.permute(0, 3, 1, 2)


def _from_nchw(x: torch.Tensor) -> torch.Tensor:
    """channels-last (N, C, H, W) -> (N, H, W, C), a view."""
    return x.permute(0, 2, 3, 1)


class Conv2D(nn.Module):
    def __init__(self, layer: spec.Conv2D, kernel: np.ndarray | None, bias: np.ndarray | None, in_channels: int):
        super().__init__()
        height, width = spec.pair(layer.kernel_size)
        # torch's layout (out, in, kh, kw), from Keras' (kh, kw, in, out)
        torch_kernel = None if kernel is None else np.transpose(kernel, (3, 2, 0, 1))
        self.weight = _parameter(torch_kernel, (layer.filters, in_channels, height, width))
        self.bias = _parameter(bias, (layer.filters,))
        self.stride = spec.pair(layer.strides)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight.contiguous(memory_format=torch.channels_last)
        return _from_nchw(F.conv2d(_as_nchw(x), weight, self.bias, stride=self.stride))


class MaxPool2D(nn.Module):
    def __init__(self, layer: spec.MaxPool2D):
        super().__init__()
        self.size = spec.pair(layer.pool_size)
        self.stride = spec.pair(layer.strides or layer.pool_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _from_nchw(F.max_pool2d(_as_nchw(x), self.size, self.stride))


class Dense(nn.Module):
    def __init__(self, layer: spec.Dense, kernel, bias, in_features: int):
        super().__init__()
        self.weight = _parameter(None if kernel is None else kernel.T, (layer.units, in_features))
        self.bias = _parameter(bias, (layer.units,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


class GaussianLatent(nn.Module):
    def __init__(self, layer: spec.GaussianLatent, arrays: dict, in_features: int):
        super().__init__()
        units = spec.Dense(layer.units)
        self.mean = Dense(units, arrays.get("mean_kernel"), arrays.get("mean_bias"), in_features)
        self.log_var = Dense(units, arrays.get("log_var_kernel"), arrays.get("log_var_bias"), in_features)
        self.epsilon_std, self.kl_weight = layer.epsilon_std, layer.kl_weight
        self.monte_carlo = False
        self.added_loss: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean, log_var = self.mean(x), self.log_var(x)
        self.added_loss = None
        if self.training:
            divergence = -0.5 * (1 + log_var - mean.square() - log_var.exp()).sum(dim=-1).mean()
            self.added_loss = self.kl_weight * divergence
        if self.training or self.monte_carlo:
            return mean + (0.5 * log_var).exp() * self.epsilon_std * torch.randn_like(mean)
        return mean


class Slice(nn.Module):
    def __init__(self, layer: spec.Slice):
        super().__init__()
        self.start, self.stop = layer.start, layer.stop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start : self.stop]


class Branches(nn.Module):
    def __init__(self, info: spec.LayerInfo, arrays: dict):
        super().__init__()
        self.branches = nn.ModuleList()
        for b, child in enumerate(info.children):
            weights = [_prefixed(arrays, f"{b}.{i}.") for i in range(len(child))] if arrays else None
            self.branches.append(nn.Sequential(*(built.module for built in build_modules(list(child), weights))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=-1)


def _prefixed(arrays: dict, prefix: str) -> dict:
    return {key.removeprefix(prefix): value for key, value in arrays.items() if key.startswith(prefix)}


class Dropout(nn.Module):
    def __init__(self, rate: float, permanent: bool):
        super().__init__()
        self.rate, self.permanent = rate, permanent
        self.monte_carlo = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        active = self.training or self.permanent or self.monte_carlo
        return F.dropout(x, self.rate, training=active) if self.rate > 0 else x


class BatchNorm(nn.Module):
    def __init__(self, layer: spec.BatchNorm, weights: dict, features: int):
        super().__init__()
        self.weight = _parameter(weights.get("gamma"), (features,))
        self.bias = _parameter(weights.get("beta"), (features,))
        mean, variance = weights.get("moving_mean"), weights.get("moving_variance")
        self.register_buffer("running_mean", torch.zeros(features) if mean is None else torch.tensor(mean))
        self.register_buffer("running_var", torch.ones(features) if variance is None else torch.tensor(variance))
        self.momentum, self.epsilon = 1 - layer.momentum, layer.epsilon  # torch counts momentum the other way

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1])
        out = F.batch_norm(
            flat,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training,
            self.momentum,
            self.epsilon,
        )
        return out.view_as(x)


class Activation(nn.Module):
    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.function = ACTIVATIONS[name]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.function(x)

    def extra_repr(self) -> str:
        return self.name


class Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1)


def _module(info: spec.LayerInfo, arrays: dict) -> nn.Module:
    layer, kernel, bias = info.layer, arrays.get("kernel"), arrays.get("bias")
    if isinstance(layer, spec.Conv1D):
        return Conv1D(layer, kernel, bias, info.input_shape[-1])
    if isinstance(layer, spec.LocallyConnected1D):
        return LocallyConnected1D(layer, kernel, bias, info.weights)
    if isinstance(layer, spec.Conv2D):
        return Conv2D(layer, kernel, bias, info.input_shape[-1])
    if isinstance(layer, spec.Dense):
        return Dense(layer, kernel, bias, info.input_shape[-1])
    if isinstance(layer, spec.MaxPool1D):
        return MaxPool1D(layer)
    if isinstance(layer, spec.MaxPool2D):
        return MaxPool2D(layer)
    if isinstance(layer, spec.GaussianLatent):
        return GaussianLatent(layer, arrays, info.input_shape[-1])
    if isinstance(layer, spec.Slice):
        return Slice(layer)
    if isinstance(layer, spec.Branches):
        return Branches(info, arrays)
    if isinstance(layer, (spec.Dropout, spec.PermanentDropout)):
        return Dropout(layer.rate, permanent=isinstance(layer, spec.PermanentDropout))
    if isinstance(layer, spec.BatchNorm):
        return BatchNorm(layer, arrays, info.output_shape[-1])
    if isinstance(layer, spec.Activation):
        return Activation(layer.name)
    return Flatten()


class Built(NamedTuple):
    """One module of a built stack: its neutral layer kind, the module, its output shape text and
    the index of the neutral layer whose output is complete after it (None: not yet)."""

    kind: str
    module: nn.Module
    shape: str
    completes: int | None


def build_modules(infos: list[spec.LayerInfo], weights: list[dict] | None) -> list[Built]:
    """Modules in order.

    A layer's own activation becomes a module after it. When a max-pool follows a layer whose
    activation never decreases, the pool runs first: max(f(x)) == f(max(x)) exactly, and the
    activation then touches a pooled, smaller tensor (the layer before the pool then has no
    output of its own).
    """
    modules: list[Built] = []
    deferred: Activation | None = None
    for index, info in enumerate(infos):
        shape_text = str((None, *info.output_shape))
        module = _module(info, weights[index] if weights else {})
        activation = getattr(info.layer, "activation", None)
        own_activation = not isinstance(info.layer, spec.Activation) and activation not in (None, "linear")
        if deferred is not None:  # this layer is the max-pool the activation waited for
            modules += [Built(info.kind, module, shape_text, None), Built("Activation", deferred, shape_text, index)]
            deferred = None
            continue
        if not own_activation:
            modules.append(Built(info.kind, module, shape_text, index))
            continue
        next_is_pool = index + 1 < len(infos) and isinstance(infos[index + 1].layer, (spec.MaxPool1D, spec.MaxPool2D))
        if next_is_pool and activation in spec.MONOTONIC_ACTIVATIONS:
            modules.append(Built(info.kind, module, shape_text, None))
            deferred = Activation(activation)
        else:
            modules += [
                Built(info.kind, module, shape_text, None),
                Built("Activation", Activation(activation), shape_text, index),
            ]
    return modules

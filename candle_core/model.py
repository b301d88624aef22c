"""The backend-neutral model description: layers written once per benchmark, realized by backends.

Shapes are channels-last, as in Keras: a 1-D signal is ``(length, channels)``, an image
``(height, width, channels)``. A network is a stack of layers; ``Branches`` runs parallel stacks
on one input and concatenates their flat outputs (a multi-task network's heads, or a
conditional VAE's latent sample beside its condition). The core infers
every layer's output shape and parameter count here, so that backends, ``candle summary`` and
tests agree on what a benchmark's network is before any framework is imported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from candle_core.errors import CandleError


def as_list(value: Any) -> list:
    """A keyword's value as a list (CANDLE allows a scalar where a list is meant; None: [])."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


Shape = tuple[int, ...]

ACTIVATIONS = (
    "linear",
    "relu",
    "elu",
    "selu",
    "sigmoid",
    "hard_sigmoid",
    "tanh",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "gelu",
)
# Activations that never decrease: max-pooling commutes with them, which backends may exploit.
MONOTONIC_ACTIVATIONS = ("linear", "relu", "elu", "selu", "sigmoid", "hard_sigmoid", "tanh", "softplus", "softsign")
INITIALIZERS = (
    "constant",
    "uniform",
    "normal",
    "glorot_uniform",
    "glorot_normal",
    "lecun_uniform",
    "lecun_normal",
    "he_uniform",
    "he_normal",
)
LOSSES = ("categorical_crossentropy", "binary_crossentropy", "mse", "mae")
METRICS = ("accuracy", "mae", "mse", "r2", "corr", "macro_f1", "micro_f1")
OPTIMIZERS = ("sgd", "adam", "rmsprop", "adagrad", "adadelta")
# Keras 3's default learning rates, used when learning_rate is None.
DEFAULT_LEARNING_RATES = {"sgd": 0.01, "adam": 0.001, "rmsprop": 0.001, "adagrad": 0.001, "adadelta": 0.001}


def _check(value: str | None, allowed: Sequence[str], what: str) -> None:
    if value is not None and value not in allowed:
        raise CandleError(f"{what} '{value}' is not supported; choose one of {', '.join(allowed)}")


# --------------------------------------------------------------------------- layers
@dataclass(frozen=True)
class Conv1D:
    filters: int
    kernel_size: int
    strides: int = 1
    activation: str | None = None


@dataclass(frozen=True)
class LocallyConnected1D:
    """Like Conv1D, with a separate kernel at every output position (Keras 2's layer)."""

    filters: int
    kernel_size: int
    strides: int = 1
    activation: str | None = None


@dataclass(frozen=True)
class MaxPool1D:
    pool_size: int
    strides: int | None = None  # None: the pool size, as in Keras


@dataclass(frozen=True)
class Conv2D:
    """A 2-D convolution over (height, width, channels) images, 'valid' padding."""

    filters: int
    kernel_size: int | tuple[int, int]
    strides: int | tuple[int, int] = 1
    activation: str | None = None


@dataclass(frozen=True)
class MaxPool2D:
    pool_size: int | tuple[int, int]
    strides: int | tuple[int, int] | None = None  # None: the pool size, as in Keras


@dataclass(frozen=True)
class Dense:
    units: int
    activation: str | None = None


@dataclass(frozen=True)
class Dropout:
    rate: float


@dataclass(frozen=True)
class PermanentDropout:
    """Dropout that stays active at inference, for Monte-Carlo uncertainty estimates."""

    rate: float


@dataclass(frozen=True)
class Flatten:
    pass


@dataclass(frozen=True)
class BatchNorm:
    momentum: float = 0.99  # Keras defaults
    epsilon: float = 1e-3


@dataclass(frozen=True)
class Activation:
    name: str


@dataclass(frozen=True)
class Slice:
    """Features ``start:stop`` of a flat input (e.g. the condition columns of a conditional VAE)."""

    start: int
    stop: int


@dataclass(frozen=True)
class GaussianLatent:
    """A VAE's latent layer: dense mean and log-variance of ``units`` Gaussians, and a sample
    ``mean + exp(log_var / 2) * epsilon_std * noise`` while training (and in Monte-Carlo
    inference); the mean otherwise. While training it adds ``kl_weight`` times the mean
    Kullback-Leibler divergence from the unit Gaussian to the loss."""

    units: int
    epsilon_std: float = 1.0
    kl_weight: float = 1.0


@dataclass(frozen=True)
class Branches:
    """Parallel stacks of layers on one input, their flat outputs concatenated.

    With ``names``, a network ending in ``Branches`` has one named output head per branch
    (multi-task learning): the loss is summed over heads and metrics are reported per head.
    """

    branches: tuple[tuple[Any, ...], ...]
    names: tuple[str, ...] | None = None


Layer = (
    Conv1D
    | LocallyConnected1D
    | MaxPool1D
    | Conv2D
    | MaxPool2D
    | Dense
    | Dropout
    | PermanentDropout
    | Flatten
    | BatchNorm
    | Activation
    | Slice
    | GaussianLatent
    | Branches
)


@dataclass(frozen=True)
class LayerInfo:
    """One layer with its input and output shapes and its weight shapes (Keras layout)."""

    layer: Any
    input_shape: Shape
    output_shape: Shape
    weights: dict[str, Shape]  # a Branches layer's are its children's, named "branch.layer.weight"
    children: tuple[tuple[LayerInfo, ...], ...] = ()

    @property
    def n_params(self) -> int:
        return sum(math.prod(shape) for shape in self.weights.values())

    @property
    def kind(self) -> str:
        return type(self.layer).__name__


def _conv_length(length: int, kernel: int, stride: int) -> int:
    return (length - kernel) // stride + 1


def pair(value: int | Sequence[int]) -> tuple[int, int]:
    """A 2-D size given as one number or two."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _image_shape(layer: Conv2D | MaxPool2D, shape: Shape, window: tuple[int, int], stride: tuple[int, int]) -> Shape:
    name = type(layer).__name__
    if len(shape) != 3:
        raise CandleError(f"{name} needs a (height, width, channels) input, got {shape}")
    height, width = (_conv_length(shape[i], window[i], stride[i]) for i in (0, 1))
    if height < 1 or width < 1:
        raise CandleError(f"{name} window {window} is larger than its input {shape[:2]}")
    return (height, width)


def _branches_info(layer: Branches, shape: Shape) -> LayerInfo:
    if layer.names is not None and len(layer.names) != len(layer.branches):
        raise CandleError(f"Branches has {len(layer.branches)} branches but {len(layer.names)} names")
    children, weights, width = [], {}, 0
    for b, branch in enumerate(layer.branches):
        infos = sequential_infos(branch, shape)
        out = infos[-1].output_shape if infos else shape
        if len(out) != 1:
            raise CandleError(f"branch {b} of Branches must end flat (add Flatten), got shape {out}")
        width += out[0]
        children.append(tuple(infos))
        for i, info in enumerate(infos):
            weights.update({f"{b}.{i}.{name}": weight for name, weight in info.weights.items()})
    return LayerInfo(layer, shape, (width,), weights, tuple(children))


def _layer_info(layer: Any, shape: Shape) -> LayerInfo:
    weights: dict[str, Shape] = {}
    if isinstance(layer, Branches):
        return _branches_info(layer, shape)
    if isinstance(layer, (Conv1D, LocallyConnected1D)):
        if len(shape) != 2:
            raise CandleError(f"{type(layer).__name__} needs a (length, channels) input, got {shape}")
        length = _conv_length(shape[0], layer.kernel_size, layer.strides)
        if length < 1:
            raise CandleError(f"{type(layer).__name__} kernel {layer.kernel_size} is longer than its input {shape[0]}")
        out: Shape = (length, layer.filters)
        if isinstance(layer, Conv1D):
            weights = {"kernel": (layer.kernel_size, shape[1], layer.filters), "bias": (layer.filters,)}
        else:
            weights = {"kernel": (length, layer.kernel_size * shape[1], layer.filters), "bias": (length, layer.filters)}
    elif isinstance(layer, MaxPool1D):
        stride = layer.strides or layer.pool_size
        out = (_conv_length(shape[0], layer.pool_size, stride), shape[1])
        if out[0] < 1:
            raise CandleError(f"MaxPool1D pool {layer.pool_size} is longer than its input {shape[0]}")
    elif isinstance(layer, Conv2D):
        kernel = pair(layer.kernel_size)
        out = (*_image_shape(layer, shape, kernel, pair(layer.strides)), layer.filters)
        weights = {"kernel": (*kernel, shape[2], layer.filters), "bias": (layer.filters,)}
    elif isinstance(layer, MaxPool2D):
        window = pair(layer.pool_size)
        out = (*_image_shape(layer, shape, window, pair(layer.strides or window)), shape[2])
    elif isinstance(layer, Dense):
        out = (*shape[:-1], layer.units)
        weights = {"kernel": (shape[-1], layer.units), "bias": (layer.units,)}
    elif isinstance(layer, GaussianLatent):
        if len(shape) != 1:
            raise CandleError(f"GaussianLatent needs a flat input, got {shape}")
        out = (layer.units,)
        weights = {
            "mean_kernel": (shape[0], layer.units),
            "mean_bias": (layer.units,),
            "log_var_kernel": (shape[0], layer.units),
            "log_var_bias": (layer.units,),
        }
    elif isinstance(layer, Slice):
        if len(shape) != 1 or not 0 <= layer.start < layer.stop <= shape[0]:
            raise CandleError(f"Slice {layer.start}:{layer.stop} does not fit a flat input of shape {shape}")
        out = (layer.stop - layer.start,)
    elif isinstance(layer, Flatten):
        out = (math.prod(shape),)
    elif isinstance(layer, BatchNorm):
        out = shape
        features = (shape[-1],)
        weights = {"gamma": features, "beta": features, "moving_mean": features, "moving_variance": features}
    elif isinstance(layer, (Dropout, PermanentDropout, Activation)):
        out = shape
    else:
        raise CandleError(f"unknown layer {layer!r}")
    return LayerInfo(layer, shape, out, weights)


def sequential_infos(layers: Sequence[Any], input_shape: Shape) -> list[LayerInfo]:
    """Every layer of a stack with its shapes, in order."""
    infos, shape = [], tuple(input_shape)
    for layer in layers:
        info = _layer_info(layer, shape)
        infos.append(info)
        shape = info.output_shape
    return infos


def walk(layers: Sequence[Any]):
    """Every layer, those inside Branches included, depth first."""
    for layer in layers:
        yield layer
        if isinstance(layer, Branches):
            for branch in layer.branches:
                yield from walk(branch)


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer and its settings, with Keras 3's defaults on every backend."""

    name: str
    learning_rate: float
    momentum: float = 0.0
    nesterov: bool = False
    epsilon: float = 1e-7
    rho: float = 0.9
    beta_1: float = 0.9
    beta_2: float = 0.999
    decay: float = 0.0  # inverse-time decay per step: lr / (1 + decay * step), only when asked
    clipnorm: float | None = None
    clipvalue: float | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> OptimizerSpec:
        name = str(params.get("optimizer") or "sgd").lower()
        _check(name, OPTIMIZERS, "optimizer")
        learning_rate = params.get("learning_rate")
        if learning_rate is None:
            learning_rate = DEFAULT_LEARNING_RATES[name]
        return cls(
            name=name,
            learning_rate=float(learning_rate),
            momentum=float(params.get("momentum") or 0.0),
            nesterov=bool(params.get("nesterov") or False),
            epsilon=float(params.get("epsilon") or 1e-7),
            rho=float(params.get("rho") or 0.9),
            beta_1=float(params.get("beta_1") or 0.9),
            beta_2=float(params.get("beta_2") or 0.999),
            decay=float(params.get("decay") or 0.0),
            clipnorm=params.get("clipnorm"),
            clipvalue=params.get("clipvalue"),
        )


@dataclass
class ModelSpec:
    """A network (a stack of layers, which may branch), its loss, metrics, optimizer and kernel
    initializer."""

    name: str
    input_shape: Shape
    layers: list[Any]
    loss: str
    optimizer: OptimizerSpec
    metrics: list[str] = field(default_factory=list)
    initializer: str = "glorot_uniform"
    # (layer index, leading columns) of the layer output that embeds the inputs (an
    # autoencoder's latent space); the training loop plots it for the validation rows
    embedding: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        _check(self.loss, LOSSES, "loss")
        _check(self.initializer, INITIALIZERS, "initialization")
        for metric in self.metrics:
            _check(metric, METRICS, "metric")
        for layer in walk(self.layers):
            if isinstance(layer, Activation):
                _check(layer.name, ACTIVATIONS, "activation")
            elif isinstance(layer, (Conv1D, LocallyConnected1D, Conv2D, Dense)):
                _check(layer.activation, ACTIVATIONS, "activation")
        infos = self.infos()  # fail early on impossible shapes
        if self.embedding is not None:
            layer, width = self.embedding
            if not 0 <= layer < len(infos) or not 0 < width <= math.prod(infos[layer].output_shape):
                raise CandleError(f"embedding {self.embedding} names no layer output of this network")

    def infos(self) -> list[LayerInfo]:
        """Every layer with its shapes, in order."""
        return sequential_infos(self.layers, self.input_shape)

    @property
    def heads(self) -> list[tuple[str, int, int]] | None:
        """(name, first column, end column) of each named output head, or None for one output."""
        last = self.infos()[-1] if self.layers else None
        if last is None or not isinstance(last.layer, Branches) or last.layer.names is None:
            return None
        heads, start = [], 0
        for name, branch in zip(last.layer.names, last.children, strict=True):
            width = branch[-1].output_shape[0] if branch else last.input_shape[0]
            heads.append((name, start, start + width))
            start += width
        return heads

    @property
    def train_metrics(self) -> list[str]:
        """Metrics reported on training batches: none for multi-head networks, whose metrics
        are per head and computed on the validation data."""
        return [] if self.heads else list(self.metrics)

    @property
    def output_shape(self) -> Shape:
        return self.infos()[-1].output_shape

    @property
    def n_params(self) -> int:
        return sum(info.n_params for info in self.infos())

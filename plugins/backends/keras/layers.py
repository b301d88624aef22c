"""candle's neutral layers as Keras 3 layers (channels-last, Keras' own layout).

Keras 3 dropped ``LocallyConnected1D``; it is rebuilt here with Keras 2's weight layout.
``PermanentDropout`` keeps dropping at inference, for Monte-Carlo uncertainty estimates.
Layers with a ``monte_carlo`` switch (dropout, a VAE's sampling) stay random at inference
while it is on. ``Branches`` holds one ``keras.Sequential`` per branch.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from candle_core import model as spec


class LocallyConnected1D(layers.Layer):
    def __init__(self, filters: int, kernel_size: int, strides: int = 1, activation: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.strides = filters, kernel_size, strides
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        length = (input_shape[1] - self.kernel_size) // self.strides + 1
        self.output_length = length
        self.kernel = self.add_weight(
            shape=(length, self.kernel_size * input_shape[2], self.filters), name="kernel", initializer="glorot_uniform"
        )
        self.bias = self.add_weight(shape=(length, self.filters), name="bias", initializer="zeros")

    def call(self, inputs):
        starts = range(0, self.output_length * self.strides, self.strides)
        patches = ops.stack(
            [ops.reshape(inputs[:, s : s + self.kernel_size, :], (-1, self.kernel.shape[1])) for s in starts], axis=1
        )  # (N, L', k*C), (k, C) order
        return self.activation(ops.einsum("nlf,lfo->nlo", patches, self.kernel) + self.bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_length, self.filters)


class PermanentDropout(layers.Layer):
    def __init__(self, rate: float, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        return keras.random.dropout(inputs, self.rate, seed=self.seed_generator) if self.rate > 0 else inputs

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate}


class MonteCarloDropout(layers.Dropout):
    """Dropout that can be switched on at inference (``candle infer --mc-samples``)."""

    monte_carlo = False

    def call(self, inputs, training=None):
        return super().call(inputs, training=training or self.monte_carlo)


class GaussianLatent(layers.Layer):
    """See ``candle_core.model.GaussianLatent``; the KL divergence is added with ``add_loss``."""

    monte_carlo = False

    def __init__(self, units: int, epsilon_std: float, kl_weight: float, **kwargs):
        super().__init__(**kwargs)
        self.units, self.epsilon_std, self.kl_weight = units, epsilon_std, kl_weight
        self.seed_generator = keras.random.SeedGenerator()

    def build(self, input_shape):
        shape = (input_shape[-1], self.units)
        self.mean_kernel = self.add_weight(shape=shape, name="mean_kernel", initializer="glorot_uniform")
        self.mean_bias = self.add_weight(shape=(self.units,), name="mean_bias", initializer="zeros")
        self.log_var_kernel = self.add_weight(shape=shape, name="log_var_kernel", initializer="glorot_uniform")
        self.log_var_bias = self.add_weight(shape=(self.units,), name="log_var_bias", initializer="zeros")

    def call(self, inputs, training=None):
        mean = ops.matmul(inputs, self.mean_kernel) + self.mean_bias
        log_var = ops.matmul(inputs, self.log_var_kernel) + self.log_var_bias
        if training:
            divergence = -0.5 * ops.sum(1 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)
            self.add_loss(self.kl_weight * ops.mean(ops.cast(divergence, "float32")))
        if training or self.monte_carlo:
            noise = keras.random.normal(ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator)
            return mean + ops.exp(0.5 * log_var) * self.epsilon_std * noise
        return mean

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)


class Slice(layers.Layer):
    def __init__(self, start: int, stop: int, **kwargs):
        super().__init__(**kwargs)
        self.start, self.stop = start, stop

    def call(self, inputs):
        return inputs[:, self.start : self.stop]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.stop - self.start)


class Branches(layers.Layer):
    def __init__(self, info: spec.LayerInfo, dtype=None, **kwargs):
        super().__init__(dtype=dtype, **kwargs)
        self.stacks = [keras.Sequential([keras_layer(child, dtype) for child in branch]) for branch in info.children]
        self.width = info.output_shape[0]

    def build(self, input_shape):
        for stack in self.stacks:
            stack.build(input_shape)

    def call(self, inputs, training=None):
        return ops.concatenate([stack(inputs, training=training) for stack in self.stacks], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.width)


def load_arrays(layer: layers.Layer, arrays: dict) -> None:
    """Set a built layer's weights from candle's arrays (Keras layout; a Branches layer's are
    named "branch.layer.weight")."""
    if isinstance(layer, Branches):
        for b, stack in enumerate(layer.stacks):
            for i, child in enumerate(stack.layers):
                prefix = f"{b}.{i}."
                load_arrays(child, {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)})
    elif arrays:
        layer.set_weights(list(arrays.values()))


def all_layers(keras_layers: list[layers.Layer]):
    """Every layer, those inside Branches included."""
    for layer in keras_layers:
        yield layer
        if isinstance(layer, Branches):
            for stack in layer.stacks:
                yield from all_layers(stack.layers)


def keras_layer(info: spec.LayerInfo, dtype=None) -> layers.Layer:
    layer = info.layer
    if isinstance(layer, spec.Conv1D):
        return layers.Conv1D(
            layer.filters, layer.kernel_size, strides=layer.strides, activation=layer.activation, dtype=dtype
        )
    if isinstance(layer, spec.LocallyConnected1D):
        return LocallyConnected1D(layer.filters, layer.kernel_size, layer.strides, layer.activation, dtype=dtype)
    if isinstance(layer, spec.MaxPool1D):
        return layers.MaxPooling1D(layer.pool_size, strides=layer.strides, dtype=dtype)
    if isinstance(layer, spec.Conv2D):
        return layers.Conv2D(
            layer.filters, layer.kernel_size, strides=layer.strides, activation=layer.activation, dtype=dtype
        )
    if isinstance(layer, spec.MaxPool2D):
        return layers.MaxPooling2D(layer.pool_size, strides=layer.strides, dtype=dtype)
    if isinstance(layer, spec.GaussianLatent):
        return GaussianLatent(layer.units, layer.epsilon_std, layer.kl_weight, dtype=dtype)
    if isinstance(layer, spec.Slice):
        return Slice(layer.start, layer.stop, dtype=dtype)
    if isinstance(layer, spec.Branches):
        return Branches(info, dtype=dtype)
    if isinstance(layer, spec.Dense):
        return layers.Dense(layer.units, activation=layer.activation, dtype=dtype)
    if isinstance(layer, spec.Dropout):
        return MonteCarloDropout(layer.rate, dtype=dtype)
    if isinstance(layer, spec.PermanentDropout):
        return PermanentDropout(layer.rate, dtype=dtype)
    if isinstance(layer, spec.BatchNorm):
        return layers.BatchNormalization(momentum=layer.momentum, epsilon=layer.epsilon, dtype=dtype)
    if isinstance(layer, spec.Activation):
        return layers.Activation(layer.name, dtype=dtype)
    return layers.Flatten(dtype=dtype)

"""candle's neutral layers as Keras 3 layers (channels-last, Keras' own layout).

Keras 3 dropped ``LocallyConnected1D``; it is rebuilt here with Keras 2's weight layout.
``PermanentDropout`` keeps dropping at inference, for Monte-Carlo uncertainty estimates.
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


class MonteCarloDropout(layers.Dropout):
    """Dropout that can be switched on at inference (``candle infer --mc-samples``)."""

    monte_carlo = False

    def call(self, inputs, training=None):
        return super().call(inputs, training=training or self.monte_carlo)


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

"""The Keras 3 backend (TensorFlow): builds candle's neutral networks as Keras models and trains
them with ``Model.fit``, one epoch per call, so that it runs at the speed of a plain Keras script."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

from candle_core.backend import Backend  # noqa: E402
from candle_core.model import ModelSpec, OptimizerSpec  # noqa: E402
from candle_plugins.backends.keras.layers import all_layers, keras_layer, load_arrays  # noqa: E402
from candle_plugins.backends.keras.metrics import keras_metric  # noqa: E402

WEIGHTS_FILE = "model.weights.h5"


@dataclass
class KerasModel:
    spec: ModelSpec
    model: keras.Model
    precision: str


def _optimizer_class(spec: OptimizerSpec) -> tuple[type[keras.optimizers.Optimizer], dict]:
    options: dict = {"clipnorm": spec.clipnorm, "clipvalue": spec.clipvalue, "learning_rate": spec.learning_rate}
    if spec.decay:  # Keras 2's per-step decay: lr / (1 + decay * step)
        options["learning_rate"] = keras.optimizers.schedules.InverseTimeDecay(
            spec.learning_rate, decay_steps=1, decay_rate=spec.decay
        )
    if spec.name == "sgd":
        return keras.optimizers.SGD, options | {"momentum": spec.momentum, "nesterov": spec.nesterov}
    if spec.name == "adam":
        return keras.optimizers.Adam, options | {"beta_1": spec.beta_1, "beta_2": spec.beta_2, "epsilon": spec.epsilon}
    if spec.name == "rmsprop":
        return keras.optimizers.RMSprop, options | {"rho": spec.rho, "momentum": spec.momentum, "epsilon": spec.epsilon}
    if spec.name == "adagrad":
        return keras.optimizers.Adagrad, options | {"epsilon": spec.epsilon}
    return keras.optimizers.Adadelta, options | {"rho": spec.rho, "epsilon": spec.epsilon}


def _optimizer(
    spec: OptimizerSpec, average_gradients: Callable[[list[np.ndarray]], None] | None
) -> keras.optimizers.Optimizer:
    """Keras' optimizer for ``spec``; with ``average_gradients``, a subclass whose
    ``apply_gradients`` first averages the gradients across ranks (inside the compiled step,
    through ``tf.numpy_function``), then clips and applies them as the original does."""
    base, options = _optimizer_class(spec)
    if average_gradients is None:
        return base(**options)

    def apply_gradients(self, grads_and_vars):
        import tensorflow as tf

        gradients, variables = zip(*grads_and_vars, strict=True)

        def average(*arrays):
            arrays = [np.array(a, copy=True) for a in arrays]
            average_gradients(arrays)
            return arrays

        averaged = tf.numpy_function(average, list(gradients), [g.dtype for g in gradients], stateful=True)
        for result, gradient in zip(averaged, gradients, strict=True):
            result.set_shape(gradient.shape)
        return base.apply_gradients(self, zip(averaged, variables, strict=True))

    averaging = type(f"Averaging{base.__name__}", (base,), {"apply_gradients": apply_gradients})
    return averaging(**options)


def _loss(spec: ModelSpec):
    """Keras' loss by name; for a multi-head network, the sum of it over the heads."""
    heads = spec.heads
    if not heads:
        return spec.loss
    one = keras.losses.get(spec.loss)

    def multi_head_loss(y_true, y_pred):
        return sum(one(y_true[:, a:b], y_pred[:, a:b]) for _, a, b in heads)

    return multi_head_loss


class _BatchEnd(keras.callbacks.Callback):
    def __init__(self, on_batch: Callable[[], None]):
        super().__init__()
        self.on_batch = on_batch

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch()


class KerasBackend(Backend):
    name = "keras"

    def build(
        self, spec: ModelSpec, weights, precision: str = "fp32", seed: int = 0, average_gradients=None
    ) -> KerasModel:
        keras.utils.set_random_seed(seed)
        infos = spec.infos()
        mixed = keras.DTypePolicy("mixed_bfloat16") if precision == "bf16" else None
        # the last layer computes in float32, so that outputs and losses are float32
        layers = [keras_layer(info, dtype=mixed if i < len(infos) - 1 else "float32") for i, info in enumerate(infos)]
        model = keras.Sequential([keras.Input(spec.input_shape), *layers], name=spec.name)
        if weights:
            for layer, arrays in zip(layers, weights, strict=True):
                load_arrays(layer, arrays)
        # the averaging step calls Python, which XLA cannot compile
        jit = "auto" if average_gradients is None else False
        model.compile(
            optimizer=_optimizer(spec.optimizer, average_gradients),
            loss=_loss(spec),
            metrics=[keras_metric(name) for name in spec.train_metrics],
            jit_compile=jit,
        )
        return KerasModel(spec, model, precision)

    def layer_table(self, model: KerasModel) -> list[tuple[str, str, int]]:
        return [(type(layer).__name__, str(layer.output.shape), layer.count_params()) for layer in model.model.layers]

    def train_epoch(
        self, model: KerasModel, x, y, batch_size: int, order: np.ndarray, on_batch: Callable[[], None]
    ) -> dict[str, float]:
        history = model.model.fit(
            x[order],
            y[order],
            batch_size=batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[_BatchEnd(on_batch)],
        )
        return {name: float(values[-1]) for name, values in history.history.items()}

    def predict(
        self, model: KerasModel, x, batch_size: int, monte_carlo: bool = False, layer: int | None = None
    ) -> np.ndarray:
        if layer is not None:  # a model ending at that layer (Keras layers are candle's, one to one)
            head = keras.Model(model.model.inputs, model.model.layers[layer].output)
            return np.asarray(head.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)
        if not monte_carlo:
            return np.asarray(model.model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)
        dropouts = [layer for layer in all_layers(model.model.layers) if hasattr(layer, "monte_carlo")]
        for layer in dropouts:
            layer.monte_carlo = True
        try:  # eagerly, so that the switched dropout layers are honoured
            parts = [
                keras.ops.convert_to_numpy(model.model(x[s : s + batch_size], training=False))
                for s in range(0, len(x), batch_size)
            ]
        finally:
            for layer in dropouts:
                layer.monte_carlo = False
        return np.concatenate(parts).astype(np.float32)

    def get_learning_rate(self, model: KerasModel) -> float:
        optimizer = model.model.optimizer
        rate = optimizer.learning_rate
        return float(keras.ops.convert_to_numpy(rate))

    def set_learning_rate(self, model: KerasModel, value: float) -> None:
        model.model.optimizer.learning_rate.assign(value)

    def get_weights(self, model: KerasModel) -> list[np.ndarray]:
        return [np.asarray(w) for w in model.model.get_weights()]

    def set_weights(self, model: KerasModel, weights: list[np.ndarray]) -> None:
        model.model.set_weights(weights)

    def save(self, model: KerasModel, directory: Path, include_optimizer: bool = True) -> None:
        # Keras' weights file (HDF5: data only, no code) holds the optimizer's variables too
        model.model.save_weights(directory / WEIGHTS_FILE)

    def load(self, model: KerasModel, directory: Path) -> None:
        model.model.optimizer.build(model.model.trainable_variables)
        model.model.load_weights(directory / WEIGHTS_FILE)

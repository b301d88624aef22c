"""The Keras 3 backend: builds candle's neutral networks as Keras models and trains them with
``Model.fit``, one epoch per call, so that it runs at the speed of a plain Keras script.

It runs on Keras 3's TensorFlow engine (the default) and on its torch and JAX engines, chosen by
``KERAS_BACKEND`` as in any Keras program, so that one model trains on GPU nodes where only one
of the three frameworks is installed (without ``KERAS_BACKEND``, the first installed of tensorflow,
torch, jax). Data-parallel training averages the gradients inside the
optimizer's ``apply`` (TensorFlow: through ``tf.numpy_function``; torch: on the tensors); the JAX
engine applies gradients statelessly inside its compiled step and is refused there.
"""

from __future__ import annotations

import os
from importlib.util import find_spec

ENGINES = ("tensorflow", "torch", "jax")  # without KERAS_BACKEND: the first one installed
os.environ.setdefault("KERAS_BACKEND", next((e for e in ENGINES if find_spec(e) is not None), "tensorflow"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Callable  # noqa: E402
from contextlib import AbstractContextManager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

from candle_core.contracts import Backend, GradientSync  # noqa: E402
from candle_core.device import GPU  # noqa: E402
from candle_core.errors import CandleError  # noqa: E402
from candle_core.model import ModelSpec, OptimizerSpec  # noqa: E402
from candle_plugins.backends.keras.layers import all_layers, keras_layer, load_arrays  # noqa: E402
from candle_plugins.backends.keras.metrics import keras_metric  # noqa: E402
from candle_plugins.backends.profilers import jax_profile, tensorflow_profile, torch_profile  # noqa: E402

WEIGHTS_FILE = "model.weights.h5"


MIXED_POLICIES = {"bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


@dataclass
class KerasModel:
    spec: ModelSpec
    model: keras.Model
    precision: str
    device: str = "cpu"  # Keras' name for the device


def engine() -> str:
    """The Keras engine in use: tensorflow, torch or jax."""
    return keras.backend.backend()


def keras_device(device: str) -> str:
    """Keras' name for candle's device string (``cuda:N`` -> ``gpu:N``)."""
    return "cpu" if device == "cpu" else device.replace("cuda", "gpu")


def _set_tf32(enabled: bool) -> None:
    """TensorFloat-32 only for precision tf32, on whichever engine runs."""
    if engine() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(enabled)
    elif engine() == "torch":
        from candle_plugins.backends.torch.devices import set_tf32

        set_tf32(enabled)
    else:
        import jax

        jax.config.update("jax_default_matmul_precision", "tensorfloat32" if enabled else "float32")


def keras_optimizer_class(spec: OptimizerSpec) -> tuple[type[keras.optimizers.Optimizer], dict]:
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


def _optimizer(spec: OptimizerSpec, sync: GradientSync | None) -> keras.optimizers.Optimizer:
    """Keras' optimizer for ``spec``; with ``sync``, a subclass whose ``apply`` first averages the
    gradients across ranks, then clips and applies them as the original does."""
    base, options = keras_optimizer_class(spec)
    if sync is None:
        return base(**options)
    average = _tensorflow_average if engine() == "tensorflow" else _torch_average

    def apply(self, grads, trainable_variables=None):
        return base.apply(self, average(list(grads), sync), trainable_variables)

    averaging = type(f"Averaging{base.__name__}", (base,), {"apply": apply})
    return averaging(**options)


def _tensorflow_average(gradients: list, sync: GradientSync) -> list:
    """Inside TensorFlow's compiled step: average through a numpy function call."""
    import tensorflow as tf

    def average(*arrays):
        arrays = [np.array(a, copy=True) for a in arrays]
        sync.average_gradients(arrays)
        return arrays

    averaged = tf.numpy_function(average, gradients, [g.dtype for g in gradients], stateful=True)
    for result, gradient in zip(averaged, gradients, strict=True):
        result.set_shape(gradient.shape)
    return averaged


def _torch_average(gradients: list, sync: GradientSync) -> list:
    """On the torch engine's eager step: the tensors themselves (``nccl``, ``gloo``) or host
    copies. A variable without a gradient (None) is left as it is, as Keras does."""
    import torch

    present = [g for g in gradients if g is not None]
    if sync.device_memory:
        sync.average_gradients(present)
        return gradients
    arrays = [g.detach().cpu().numpy().copy() for g in present]
    sync.average_gradients(arrays)
    averaged = iter(torch.from_numpy(a).to(g.device) for a, g in zip(arrays, present, strict=True))
    return [None if g is None else next(averaged) for g in gradients]


def _loss(spec: ModelSpec):
    """Keras' loss by name; for a multi-head network, the sum of it over the heads."""
    heads = spec.heads
    if not heads:
        return spec.loss
    one = keras.losses.get(spec.loss)

    def multi_head_loss(y_true, y_pred):
        return sum(one(y_true[:, a:b], y_pred[:, a:b]) for _, a, b in heads)

    return multi_head_loss


def _installed(distribution: str) -> bool:
    from importlib import metadata

    try:
        metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


class _BatchEnd(keras.callbacks.Callback):
    def __init__(self, on_batch: Callable[[], None]):
        super().__init__()
        self.on_batch = on_batch

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch()


class KerasBackend(Backend):
    name = "keras"

    def gpus(self) -> list[GPU]:
        if engine() == "torch":
            from candle_plugins.backends.torch.devices import torch_gpus

            return torch_gpus()
        if engine() == "jax":
            import jax

            try:
                devices = jax.devices("gpu")
            except RuntimeError:  # no GPU platform
                return []
            return [
                GPU(i, d.device_kind, int((d.memory_stats() or {}).get("bytes_limit", 0)))
                for i, d in enumerate(devices)
            ]
        import tensorflow as tf

        found = []
        for index, device in enumerate(tf.config.list_physical_devices("GPU")):
            details = tf.config.experimental.get_device_details(device)
            found.append(GPU(index, details.get("device_name", device.name), 0))  # TF does not say the memory
        return found

    def framework(self) -> str:
        from importlib import metadata

        name = engine()
        package = {"tensorflow": "tensorflow-cpu" if _installed("tensorflow-cpu") else "tensorflow"}.get(name, name)
        return f"keras {keras.__version__} on {name} {metadata.version(package) if _installed(package) else ''}".strip()

    def build(
        self, spec: ModelSpec, weights, precision: str = "fp32", seed: int = 0, sync=None, device: str = "cpu"
    ) -> KerasModel:
        if sync is not None and engine() == "jax":
            raise CandleError(
                "the Keras backend on the JAX engine cannot average gradients across ranks (JAX applies them "
                "inside its compiled step); use KERAS_BACKEND=tensorflow or torch, or --backend torch"
            )
        if sync is not None and precision == "fp16":
            raise CandleError(
                "the Keras backend: fp16 loss scaling and data-parallel training do not combine; use bf16"
            )
        keras.utils.set_random_seed(seed)
        if device != "cpu":
            _set_tf32(precision == "tf32")
        name = keras_device(device)
        with keras.device(name):
            model = self._compile(spec, weights, precision, sync)
        return KerasModel(spec, model, precision, name)

    def _compile(self, spec: ModelSpec, weights, precision: str, sync: GradientSync | None) -> keras.Model:
        infos = spec.infos()
        mixed = keras.DTypePolicy(MIXED_POLICIES[precision]) if precision in MIXED_POLICIES else None
        # the last layer computes in float32, so that outputs and losses are float32
        layers = [keras_layer(info, dtype=mixed if i < len(infos) - 1 else "float32") for i, info in enumerate(infos)]
        model = keras.Sequential([keras.Input(spec.input_shape), *layers], name=spec.name)
        if weights:
            for layer, arrays in zip(layers, weights, strict=True):
                load_arrays(layer, arrays)
        optimizer = _optimizer(spec.optimizer, sync)
        if precision == "fp16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        # the averaging step calls Python, which XLA cannot compile
        model.compile(
            optimizer=optimizer,
            loss=_loss(spec),
            metrics=[keras_metric(name) for name in spec.train_metrics],
            jit_compile="auto" if sync is None else False,
        )
        return model

    def layer_table(self, model: KerasModel) -> list[tuple[str, str, int]]:
        return [(type(layer).__name__, str(layer.output.shape), layer.count_params()) for layer in model.model.layers]

    def train_epoch(
        self, model: KerasModel, x, y, batch_size: int, order: np.ndarray, on_batch: Callable[[], None]
    ) -> dict[str, float]:
        with keras.device(model.device):
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
        with keras.device(model.device):
            return self._predict(model, x, batch_size, monte_carlo, layer)

    def _predict(self, model: KerasModel, x, batch_size: int, monte_carlo: bool, layer: int | None) -> np.ndarray:
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

    def graph(self, model: KerasModel, input_shape: tuple[int, ...]) -> Any | None:
        """On the TensorFlow engine, the graph TensorFlow traces of the model's inference call."""
        if engine() != "tensorflow":
            return None
        import tensorflow as tf

        call = tf.function(lambda x: model.model(x, training=False))
        with keras.device(model.device):
            traced = call.get_concrete_function(tf.TensorSpec((None, *input_shape), tf.float32))
        return traced.graph.as_graph_def()

    def profiler(self, model: KerasModel, folder: Path) -> AbstractContextManager[Any]:
        """The profiler of the engine Keras runs on."""
        if engine() == "tensorflow":
            return tensorflow_profile(folder)
        if engine() == "jax":
            return jax_profile(folder)
        return torch_profile(folder, cuda=model.device.startswith("gpu"))

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

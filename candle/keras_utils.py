"""candle_lib's Keras helpers, in Keras 3: optimizers and initializers with the defaults both
backends share, run records and timeouts as ``candle run`` writes and applies them, metrics."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keras
from keras import ops

from candle.helper_utils import framework, numeric_logs, optimizer_spec
from candle_core.plugin_manager import get_plugin_manager
from candle_core.run_context import RunContext, timeout_reason
from candle_plugins.backends.keras.backend import keras_optimizer_class
from candle_plugins.backends.keras.layers import PermanentDropout


def build_optimizer(optimizer: str, lr: float, kerasDefaults: Mapping[str, Any]) -> keras.optimizers.Optimizer:
    """A Keras optimizer (sgd, adam, rmsprop, adagrad, adadelta) with learning rate ``lr`` and the
    other settings of ``kerasDefaults`` (``keras_default_config()``): the optimizer ``candle run``
    builds for the same keywords."""
    spec = optimizer_spec(optimizer, lr, kerasDefaults)
    base, options = keras_optimizer_class(spec)
    return base(**options)


def build_initializer(
    initializer: str, kerasDefaults: Mapping[str, Any], seed: int | None = None, constant: float = 0.0
) -> keras.initializers.Initializer:
    """A Keras initializer: constant, uniform and normal (ranges of ``kerasDefaults``),
    glorot_uniform, glorot_normal, lecun_uniform, he_normal (a normal one, as its name says)."""
    seed = None if seed is None else int(seed)
    makers: dict[str, Callable[[], keras.initializers.Initializer]] = {
        "constant": lambda: keras.initializers.Constant(constant),
        "uniform": lambda: keras.initializers.RandomUniform(
            kerasDefaults["minval_uniform"], kerasDefaults["maxval_uniform"], seed=seed
        ),
        "normal": lambda: keras.initializers.RandomNormal(
            kerasDefaults["mean_normal"], kerasDefaults["stddev_normal"], seed=seed
        ),
        "glorot_uniform": lambda: keras.initializers.GlorotUniform(seed=seed),
        "glorot_normal": lambda: keras.initializers.GlorotNormal(seed=seed),
        "lecun_uniform": lambda: keras.initializers.LecunUniform(seed=seed),
        "he_normal": lambda: keras.initializers.HeNormal(seed=seed),
    }
    if initializer not in makers:
        raise ValueError(f"initializer {initializer!r} is not one of {', '.join(makers)}")
    return makers[initializer]()


def compute_trainable_params(model: Any) -> dict[str, int]:
    """Trainable, non-trainable and total parameter counts of a Keras model or a torch module."""
    if hasattr(model, "trainable_weights"):
        trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
        frozen = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    else:
        parameters = list(model.parameters())
        trainable = sum(p.numel() for p in parameters if p.requires_grad)
        frozen = sum(p.numel() for p in parameters if not p.requires_grad)
    return {"trainable_params": trainable, "non_trainable_params": frozen, "total_params": trainable + frozen}


def r2(y_true, y_pred):
    """Coefficient of determination over the batch."""
    residual = ops.sum(ops.square(y_true - y_pred))
    total = ops.sum(ops.square(y_true - ops.mean(y_true)))
    return 1.0 - residual / (total + keras.config.epsilon())


def mae(y_true, y_pred):
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


def mse(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


def get_function(name: str) -> Callable:
    """A loss or metric by name: candle_lib's r2/mae/mse, or any Keras loss."""
    own = {"r2": r2, "mae": mae, "mse": mse}
    if name in own:
        return own[name]
    try:
        return keras.losses.get(name)
    except (ValueError, TypeError):
        raise ValueError(f"no Keras function named {name!r} (r2, mae, mse or a Keras loss name)") from None


def register_permanent_dropout() -> None:
    """Let saved models that use ``PermanentDropout`` (dropout at inference too) load by name."""
    keras.saving.get_custom_objects()["PermanentDropout"] = PermanentDropout


class LoggingCallback(keras.callbacks.Callback):
    """Print ``[Epoch: N] name: value, ...`` after each epoch through ``print_fcn``."""

    def __init__(self, print_fcn: Callable[[str], Any] = print) -> None:
        super().__init__()
        self.print_fcn = print_fcn

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        shown = ", ".join(f"{k}: {float(v):f}" for k, v in sorted((logs or {}).items()))
        self.print_fcn(f"[Epoch: {epoch}] {shown}")


class TerminateOnTimeOut(keras.callbacks.Callback):
    """Stop training at ``timeout_in_sec`` (-1: never) by candle's rule: no epoch starts that,
    as long as the last one, would end after the limit."""

    def __init__(self, timeout_in_sec: float = 10) -> None:
        super().__init__()
        self.timeout_in_sec = float(timeout_in_sec) if timeout_in_sec is not None else -1.0
        self.started = 0.0
        self.epoch_started = 0.0
        self.reason: str | None = None

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self.started = time.monotonic()

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.epoch_started = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        now = time.monotonic()
        self.reason = timeout_reason(now - self.started, now - self.epoch_started, self.timeout_in_sec)
        if self.reason:
            print(f"candle: {self.reason}")
            self.model.stop_training = True


class CandleRemoteMonitor(keras.callbacks.Callback):
    """Record the run as ``candle run`` does, in ``params["output_dir"]``: history.csv and
    history.json after each epoch, results.json (objective, timings, parameters) and the learning
    curve at the end; plugins hear ``candle_epoch_end``. The records are written atomically."""

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.params_ = dict(params or {})
        self.context: Any = None

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        run_dir = Path(self.params_.get("output_dir") or ".")
        run_dir.mkdir(parents=True, exist_ok=True)
        self.context = RunContext(self.params_, run_dir, get_plugin_manager().hook, writes=True)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.context.end_epoch(epoch + 1, numeric_logs(logs))

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        self.context.finish({"status": "ok", "framework": framework()})

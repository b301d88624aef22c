"""candle_lib's uncertainty-quantification losses, metrics and callbacks for Keras 3 (keras.ops,
so they run on the TensorFlow, torch and JAX engines).

* Abstention: the model has one extra output, "abstain"; the loss trades classification error for
  abstention with weight ``alpha`` (a Keras variable ``AbstentionAdapt_Callback`` adapts).
* Heteroscedastic regression: outputs interleave a prediction and its log variance,
  (mean_0, S_0, mean_1, S_1, ...).
* Quantile regression: outputs interleave (median, low, high) quantiles per target.
* Contamination: a normal/Cauchy mixture over the training errors, its parameters updated by EM
  in ``Contamination_Callback``; targets carry their row index as a last column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import ops
from scipy.stats import cauchy, norm

EPSILON = 1e-7


def _named(function: Callable, name: str) -> Callable:
    function.__name__ = name
    return function


def _ratio(count, total):
    """count / total as float, 0 where total is 0."""
    count, total = ops.cast(count, "float32"), ops.cast(total, "float32")
    return ops.where(total > 0, count / ops.maximum(total, 1.0), 0.0)


# ------------------------------------------------------------------ abstention
def _abstention_cost(alpha, mask, y_pred, base_cost) -> Any:
    abstained = ops.clip(ops.sum(mask * y_pred, axis=-1), EPSILON, 1.0 - EPSILON)
    return (1.0 - abstained) * base_cost - alpha * ops.log(1.0 - abstained)


def abstention_loss(alpha, mask: np.ndarray) -> Callable:
    """Cross-entropy on the class outputs, weighted by (1 - abstention), plus -alpha log(1 -
    abstention). ``mask`` is 1 on the abstention output(s), 0 elsewhere; targets one-hot."""
    mask = ops.convert_to_tensor(np.asarray(mask, dtype="float32"))

    def loss(y_true, y_pred):
        cost = keras.losses.categorical_crossentropy(y_true, (1 - mask) * y_pred + EPSILON)
        return _abstention_cost(alpha, mask, y_pred, cost)

    return _named(loss, "abs_crossentropy")


def sparse_abstention_loss(alpha, mask: np.ndarray) -> Callable:
    """``abstention_loss`` with integer class targets."""
    mask = ops.convert_to_tensor(np.asarray(mask, dtype="float32"))

    def loss(y_true, y_pred):
        cost = keras.losses.sparse_categorical_crossentropy(y_true, (1 - mask) * y_pred + EPSILON)
        return _abstention_cost(alpha, mask, y_pred, cost)

    return _named(loss, "sparse_abs_crossentropy")


def _abstained(y_pred, nb_classes):
    return ops.argmax(y_pred, axis=-1) == nb_classes


def _accuracy_without_abstention(hits, y_pred, nb_classes):
    kept = ops.logical_not(_abstained(y_pred, nb_classes))
    return _ratio(ops.sum(ops.cast(ops.logical_and(hits, kept), "int32")), ops.sum(ops.cast(kept, "int32")))


def abstention_acc_metric(nb_classes: int) -> Callable:
    """Accuracy over the rows the model does not abstain on (index ``nb_classes`` abstains)."""

    def metric(y_true, y_pred):
        hits = ops.argmax(y_true, axis=-1) == ops.argmax(y_pred, axis=-1)
        return _accuracy_without_abstention(hits, y_pred, nb_classes)

    return _named(metric, "abstention_acc")


def sparse_abstention_acc_metric(nb_classes: int) -> Callable:
    """``abstention_acc_metric`` with integer class targets."""

    def metric(y_true, y_pred):
        truth = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        hits = truth == ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        return _accuracy_without_abstention(hits, y_pred, nb_classes)

    return _named(metric, "sparse_abstention_acc")


def abstention_metric(nb_classes: int) -> Callable:
    """The share of rows the model abstains on."""

    def metric(y_true, y_pred):
        return ops.mean(ops.cast(_abstained(y_pred, nb_classes), "float32"))

    return _named(metric, "abstention")


def acc_class_i_metric(class_i: int) -> Callable:
    """Accuracy on the rows of class ``class_i`` (the abstention output ignored); 0 without such rows."""

    def metric(y_true, y_pred):
        in_class = ops.argmax(y_true, axis=-1) == class_i
        predicted = ops.argmax(y_pred[:, :-1], axis=-1) == class_i
        both = ops.sum(ops.cast(ops.logical_and(in_class, predicted), "int32"))
        return _ratio(both, ops.sum(ops.cast(in_class, "int32")))

    return _named(metric, f"acc_class_{class_i}")


def abstention_acc_class_i_metric(nb_classes: int, class_i: int) -> Callable:
    """Accuracy on the rows of class ``class_i`` the model does not abstain on."""

    def metric(y_true, y_pred):
        in_class = ops.logical_and(
            ops.argmax(y_true, axis=-1) == class_i, ops.logical_not(_abstained(y_pred, nb_classes))
        )
        hits = ops.logical_and(in_class, ops.argmax(y_true, axis=-1) == ops.argmax(y_pred, axis=-1))
        return _ratio(ops.sum(ops.cast(hits, "int32")), ops.sum(ops.cast(in_class, "int32")))

    return _named(metric, f"abstention_acc_class_{class_i}")


def abstention_class_i_metric(nb_classes: int, class_i: int) -> Callable:
    """The share of class ``class_i`` rows the model abstains on."""

    def metric(y_true, y_pred):
        in_class = ops.argmax(y_true, axis=-1) == class_i
        abstained = ops.logical_and(in_class, _abstained(y_pred, nb_classes))
        return _ratio(ops.sum(ops.cast(abstained, "int32")), ops.sum(ops.cast(in_class, "int32")))

    return _named(metric, f"abstention_class_{class_i}")


class AbstentionAdapt_Callback(keras.callbacks.Callback):
    """After epoch ``init_abs_epoch``, scale ``alpha`` (a Keras variable, start ``alpha0``) by
    1 + acc_gain * min(accuracy - min_abs_acc, 0) + abs_gain * max(abstention - max_abs_frac, 0),
    kept within [alpha_scale_factor, 1 / alpha_scale_factor]; ``acc_monitor`` and ``abs_monitor``
    name the logged metrics. ``alphavalues`` records alpha per epoch."""

    def __init__(
        self,
        acc_monitor: str,
        abs_monitor: str,
        alpha0: float,
        init_abs_epoch: int = 4,
        alpha_scale_factor: float = 0.8,
        min_abs_acc: float = 0.9,
        max_abs_frac: float = 0.4,
        acc_gain: float = 5.0,
        abs_gain: float = 1.0,
    ) -> None:
        super().__init__()
        self.acc_monitor, self.abs_monitor = acc_monitor, abs_monitor
        self.alpha = keras.Variable(float(alpha0), trainable=False, name="abstention_alpha")
        self.init_abs_epoch, self.alpha_scale_factor = init_abs_epoch, alpha_scale_factor
        self.min_abs_acc, self.max_abs_frac = min_abs_acc, max_abs_frac
        self.acc_gain, self.abs_gain = acc_gain, abs_gain
        self.alphavalues: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        alpha = float(ops.convert_to_numpy(self.alpha))
        if epoch > self.init_abs_epoch:
            logs = logs or {}
            missing = [name for name in (self.acc_monitor, self.abs_monitor) if name not in logs]
            if missing:
                raise ValueError(f"AbstentionAdapt_Callback: metrics {missing} are not logged (logged: {sorted(logs)})")
            scale = (
                1.0
                + self.acc_gain * min(logs[self.acc_monitor] - self.min_abs_acc, 0.0)
                + self.abs_gain * max(logs[self.abs_monitor] - self.max_abs_frac, 0.0)
            )
            alpha *= min(max(scale, self.alpha_scale_factor), 1.0 / self.alpha_scale_factor)
            self.alpha.assign(alpha)
        self.alphavalues.append(alpha)


def modify_labels(numclasses_out: int, ytrain: np.ndarray, ytest: np.ndarray, yval: np.ndarray | None = None):
    """Integer labels to one-hot rows with one more column, the abstention class (never set).
    Returns train and test (and validation) labels."""
    classes = int(np.max(ytrain)) + 1
    if classes + 1 != numclasses_out or int(np.max(ytest)) + 1 > classes:
        raise ValueError(f"numclasses_out must be the {classes} classes of ytrain plus 1, got {numclasses_out}")
    encode = np.eye(numclasses_out, dtype=np.float32)
    labels = [encode[np.asarray(y, dtype=np.int64).ravel()] for y in (ytrain, ytest, yval) if y is not None]
    return tuple(labels)


def add_model_output(
    modelIn: keras.Model, mode: str | None = None, num_add: int | None = None, activation: str | None = None
) -> keras.Model:
    """The model with its last Dense layer widened: by ``num_add`` units (``abstain``), doubled
    (``het``) or tripled (``qtl``), optionally with a new activation; later layers are rebuilt."""
    if mode is None:
        return modelIn
    dense_at = [i for i, layer in enumerate(modelIn.layers) if isinstance(layer, keras.layers.Dense)]
    if not dense_at:
        raise ValueError("add_model_output: the model has no Dense layer")
    index = dense_at[-1]
    units = modelIn.layers[index].units
    widths = {"abstain": units + (num_add or 0), "qtl": 3 * units, "het": 2 * units}
    if mode not in widths or (mode == "abstain" and num_add is None):
        raise ValueError(f"mode must be 'abstain' (with num_add), 'qtl' or 'het', got {mode!r}")
    config = modelIn.layers[index].get_config() | {
        "units": widths[mode],
        "name": f"{modelIn.layers[index].name}_{mode}",
    }
    if activation is not None:
        config["activation"] = activation
    if mode in ("het", "qtl"):
        config["bias_initializer"] = "ones"
    output = keras.layers.Dense.from_config(config)(modelIn.layers[index - 1].output)
    for layer in modelIn.layers[index + 1 :]:
        output = type(layer).from_config(layer.get_config())(output)
    return keras.Model(modelIn.inputs, output)


# ------------------------------------------------------------------ heteroscedastic and quantile regression
def _interleaved(y_pred, y_true, position: int, stride: int):
    """Column ``position`` of each group of ``stride`` outputs, shaped as the targets."""
    return ops.reshape(y_pred[:, position::stride], ops.shape(y_true))


def heteroscedastic_loss(nout: int) -> Callable:
    """mean(exp(-S) (y - mean)^2 + S), S the predicted log variance."""

    def loss(y_true, y_pred):
        mean, log_variance = _interleaved(y_pred, y_true, 0, 2), _interleaved(y_pred, y_true, 1, 2)
        return ops.mean(ops.exp(-log_variance) * ops.square(mean - y_true) + log_variance)

    return _named(loss, "heteroscedastic_loss")


def r2_heteroscedastic_metric(nout: int) -> Callable:
    def metric(y_true, y_pred):
        mean = _interleaved(y_pred, y_true, 0, 2)
        residual = ops.sum(ops.square(y_true - mean))
        return 1.0 - residual / (ops.sum(ops.square(y_true - ops.mean(y_true))) + EPSILON)

    return _named(metric, "r2_heteroscedastic")


def mae_heteroscedastic_metric(nout: int) -> Callable:
    def metric(y_true, y_pred):
        return ops.mean(ops.abs(y_true - _interleaved(y_pred, y_true, 0, 2)))

    return _named(metric, "mae_heteroscedastic")


def mse_heteroscedastic_metric(nout: int) -> Callable:
    def metric(y_true, y_pred):
        return ops.mean(ops.square(y_true - _interleaved(y_pred, y_true, 0, 2)))

    return _named(metric, "mse_heteroscedastic")


def meanS_heteroscedastic_metric(nout: int) -> Callable:
    """The mean predicted log variance."""

    def metric(y_true, y_pred):
        return ops.mean(y_pred[:, 1::2])

    return _named(metric, "meanS_heteroscedastic")


def quantile_loss(quantile: float, y_true, y_pred):
    """The pinball loss of ``quantile``."""
    error = y_true - y_pred
    return ops.mean(ops.maximum(quantile * error, (quantile - 1.0) * error))


def triple_quantile_loss(nout: int, lowquantile: float, highquantile: float) -> Callable:
    """Pinball losses of the low and high quantiles plus twice the median's."""

    def loss(y_true, y_pred):
        median, low, high = (_interleaved(y_pred, y_true, k, 3) for k in range(3))
        return (
            quantile_loss(lowquantile, y_true, low)
            + quantile_loss(highquantile, y_true, high)
            + 2.0 * quantile_loss(0.5, y_true, median)
        )

    return _named(loss, "triple_quantile_loss")


def quantile_metric(nout: int, index: int, quantile: float) -> Callable:
    """The pinball loss of output ``index`` (0 median, 1 low, 2 high) at ``quantile``."""

    def metric(y_true, y_pred):
        return quantile_loss(quantile, y_true, _interleaved(y_pred, y_true, index, 3))

    return _named(metric, f"quantile_{quantile}")


# ------------------------------------------------------------------ contamination
def add_index_to_output(y_train: np.ndarray) -> np.ndarray:
    """The targets with each row's index appended as a last column."""
    rows = np.arange(y_train.shape[0]).reshape(-1, 1)
    return np.hstack([y_train.reshape(y_train.shape[0], -1), rows])


def contamination_loss(nout: int, T_k, a, sigmaSQ, gammaSQ) -> Callable:
    """Negative log likelihood under the normal (weight ``a``, variance ``sigmaSQ``) / Cauchy
    (scale ``gammaSQ``) mixture, each row weighted by its memberships ``T_k`` (rows of the
    training set; the targets' last column is the row index)."""

    def loss(y_true, y_pred):
        squared = ops.sum(ops.square(ops.reshape(y_true[:, :-1], ops.shape(y_pred)) - y_pred), axis=-1)
        normal = squared / (2.0 * sigmaSQ) + 0.5 * ops.log(sigmaSQ) + 0.5 * np.log(2.0 * np.pi) - ops.log(a)
        outlier = ops.log(1.0 + squared / gammaSQ) + 0.5 * ops.log(np.pi**2 * gammaSQ) - ops.log(1.0 - a)
        rows = ops.cast(y_true[:, -1], "int32")
        return ops.sum(ops.take(T_k[:, 0], rows) * normal + ops.take(T_k[:, 1], rows) * outlier)

    return _named(loss, "contamination_loss")


class Contamination_Callback(keras.callbacks.Callback):
    """EM for ``contamination_loss``: after each epoch, a (mean normal membership, at most
    ``a_max``) and sigmaSQ (membership-weighted error variance) are re-estimated, gammaSQ takes a
    gradient step (halved until it stays positive and grows at most 1000x), and the memberships
    T_k are recomputed from the densities. One regression target only."""

    def __init__(self, x: Any, y: np.ndarray, a_max: float = 0.99) -> None:
        super().__init__()
        if y.ndim > 1 and y.shape[1] > 1:
            raise ValueError(f"the contamination model takes one regression target, got {y.shape[1]}")
        self.x, self.y, self.a_max = x, y, a_max
        rows = x[0].shape[0] if isinstance(x, list) else x.shape[0]
        normal = np.random.uniform(size=rows)
        self.T = np.stack([normal, 1.0 - normal], axis=1).astype("float32")
        self.T_k = keras.Variable(self.T, trainable=False, name="contamination_T")
        self.a = keras.Variable(float(normal.mean()), trainable=False, name="contamination_a")
        self.sigmaSQ = keras.Variable(0.01, trainable=False, name="contamination_sigmaSQ")
        self.gammaSQ = keras.Variable(0.01, trainable=False, name="contamination_gammaSQ")
        self.avalues: list[float] = []
        self.sigmaSQvalues: list[float] = []
        self.gammaSQvalues: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        error = self.y.squeeze() - self.model.predict(self.x, verbose=0).squeeze()
        squared = error**2
        a = min(float(self.T[:, 0].mean()), self.a_max)
        sigma_sq = float(np.sum(self.T[:, 0] * squared) / np.sum(self.T[:, 0]))
        gamma_sq = float(ops.convert_to_numpy(self.gammaSQ))
        gradient = (0.5 * self.T[:, 1].sum() - np.sum(self.T[:, 1] * squared / (gamma_sq + squared))) / gamma_sq
        step = float(ops.convert_to_numpy(self.model.optimizer.learning_rate))
        updated = gamma_sq - step * gradient
        while updated <= 0 or updated / gamma_sq > 1000:
            step /= 2
            updated = gamma_sq - step * gradient
        normal = a * norm.pdf(error, scale=np.sqrt(sigma_sq))
        outlier = (1.0 - a) * cauchy.pdf(error, scale=np.sqrt(updated))
        total = normal + outlier
        self.T = np.stack([normal / total, outlier / total], axis=1).astype("float32")
        for variable, value in ((self.a, a), (self.sigmaSQ, sigma_sq), (self.gammaSQ, updated), (self.T_k, self.T)):
            variable.assign(value)
        self.avalues.append(a)
        self.sigmaSQvalues.append(sigma_sq)
        self.gammaSQvalues.append(updated)


def _without_index(y_true, y_pred):
    return ops.reshape(y_true[:, :-1], ops.shape(y_pred))


def mse_contamination_metric(nout: int) -> Callable:
    def metric(y_true, y_pred):
        return ops.mean(ops.square(_without_index(y_true, y_pred) - y_pred))

    return _named(metric, "mse_contamination")


def mae_contamination_metric(nout: int) -> Callable:
    def metric(y_true, y_pred):
        return ops.mean(ops.abs(_without_index(y_true, y_pred) - y_pred))

    return _named(metric, "mae_contamination")


def r2_contamination_metric(nout: int) -> Callable:
    def metric(y_true, y_pred):
        truth = _without_index(y_true, y_pred)
        residual = ops.sum(ops.square(truth - y_pred))
        return 1.0 - residual / (ops.sum(ops.square(truth - ops.mean(truth))) + EPSILON)

    return _named(metric, "r2_contamination")

"""candle's metric names as Keras metrics, for the training logs (validation metrics are
computed by the core from predictions, ``candle_core.metrics``)."""

from __future__ import annotations

import keras
from keras import ops


class FlatPearson(keras.metrics.Metric):
    """Pearson correlation of all values seen (flattened), as P1B1 reports it."""

    def __init__(self, name: str = "corr", **kwargs):
        super().__init__(name=name, **kwargs)
        # n, x, y, xx, yy, xy in float64: the moments of millions of values cancel in float32
        self.sums = self.add_variable(shape=(6,), initializer="zeros", dtype="float64", name="sums")

    def update_state(self, y_true, y_pred, sample_weight=None):
        x = ops.reshape(ops.cast(y_true, "float64"), (-1,))
        y = ops.reshape(ops.cast(y_pred, "float64"), (-1,))
        count = ops.cast(ops.shape(x)[0], "float64")
        moments = [count, ops.sum(x), ops.sum(y), ops.sum(x * x), ops.sum(y * y), ops.sum(x * y)]
        self.sums.assign_add(ops.stack(moments))

    def result(self):
        n, x, y, xx, yy, xy = (self.sums[i] for i in range(6))
        covariance = xy - x * y / n
        return ops.cast(covariance / ops.sqrt((xx - x * x / n) * (yy - y * y / n)), "float32")

    def reset_state(self):
        self.sums.assign(ops.zeros((6,), dtype="float64"))


def keras_metric(name: str):
    """The Keras metric for one of ``candle_core.model.METRICS``."""
    if name == "r2":
        return keras.metrics.R2Score(name="r2")
    if name == "corr":
        return FlatPearson()
    if name in ("macro_f1", "micro_f1"):
        return keras.metrics.F1Score(average=name.split("_")[0], name=name)
    return name  # accuracy, mae, mse: Keras' own by name

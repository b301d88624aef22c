import math

import numpy as np
import pytest

from candle_core.metrics import evaluate, loss_value, metric_value

Y = np.array([[1, 0], [0, 1], [0, 1]], dtype=np.float32)
P = np.array([[0.8, 0.2], [0.4, 0.6], [0.9, 0.1]], dtype=np.float32)


def test_categorical_crossentropy_and_accuracy():
    expected = -(math.log(0.8) + math.log(0.6) + math.log(0.1)) / 3
    assert loss_value("categorical_crossentropy", Y, P) == pytest.approx(expected, rel=1e-6)
    assert metric_value("accuracy", Y, P) == pytest.approx(2 / 3)


def test_clipping_keeps_losses_finite():
    assert math.isfinite(loss_value("categorical_crossentropy", Y, np.array([[0, 1], [1, 0], [1, 0]], np.float32)))
    assert math.isfinite(loss_value("binary_crossentropy", np.array([1.0]), np.array([0.0])))


def test_regression_metrics():
    y, p = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.0])
    assert loss_value("mse", y, p) == pytest.approx((0.25 + 1) / 3)
    assert metric_value("mae", y, p) == pytest.approx(0.5)
    assert metric_value("r2", y, p) == pytest.approx(1 - 1.25 / 2, rel=1e-6)
    assert metric_value("accuracy", np.array([1.0, 0.0]), np.array([0.7, 0.6])) == 0.5


def test_evaluate_prefixes():
    assert set(evaluate("categorical_crossentropy", ["accuracy"], Y, P, "val_")) == {"val_loss", "val_accuracy"}

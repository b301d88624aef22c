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


@pytest.mark.parametrize("average", ["macro", "micro"])
def test_f1_matches_scikit_learn(average):
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(4)
    for classes in (2, 5, 13):
        truth = rng.integers(0, classes, 60)
        guess = np.where(rng.random(60) < 0.6, truth, rng.integers(0, classes, 60))
        y_true = np.eye(classes)[truth]
        y_pred = np.eye(classes)[guess] * 0.7 + 0.01
        expected = f1_score(truth, guess, average=average)
        assert metric_value(f"{average}_f1", y_true, y_pred) == pytest.approx(expected)


def test_corr_is_pearson_of_all_values():
    rng = np.random.default_rng(1)
    x = rng.random((20, 7))
    noisy = x + rng.normal(0, 0.2, x.shape)
    assert metric_value("corr", x, noisy) == pytest.approx(np.corrcoef(x.ravel(), noisy.ravel())[0, 1])


def test_heads_sum_losses_and_skip_unlabelled_rows():
    heads = [("a", 0, 2), ("b", 2, 5)]
    # rows 0-1 are labelled for head a only, rows 2-3 for head b only
    y_true = np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 1, 0, 0]], dtype=np.float32)
    y_pred = np.array(
        [[0.9, 0.1, 0.2, 0.3, 0.5], [0.8, 0.2, 0.1, 0.1, 0.8], [0.5, 0.5, 0.1, 0.1, 0.8], [0.5, 0.5, 0.2, 0.7, 0.1]],
        dtype=np.float32,
    )
    values = evaluate("categorical_crossentropy", ["accuracy"], y_true, y_pred, "val_", heads)
    expected_loss = loss_value("categorical_crossentropy", y_true[:, :2], y_pred[:, :2]) + loss_value(
        "categorical_crossentropy", y_true[:, 2:], y_pred[:, 2:]
    )
    assert values["val_loss"] == pytest.approx(expected_loss)
    assert values["val_a_accuracy"] == 0.5  # row 0 right, row 1 wrong; rows 2-3 not counted
    assert values["val_b_accuracy"] == 0.5  # row 2 right, row 3 wrong
    assert values["val_accuracy"] == 0.5


@pytest.mark.parametrize(
    "metric, maximized",
    [
        ("val_loss", False),
        ("val_mse", False),
        ("val_accuracy", True),
        ("val_corr", True),
        ("test_r2", True),
        ("val_macro_f1", True),
        ("val_primary_site_micro_f1", True),
        ("val_tumor_laterality_accuracy", True),
        ("val_primary_site_loss", False),
    ],
)
def test_which_way_metrics_improve(metric, maximized):
    from candle_core.objective import is_maximized

    assert is_maximized(metric) is maximized

"""candle_lib's plots: each writes a real PNG where candle_lib names it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.interpolate import PchipInterpolator

import candle


def _png(path: str | Path) -> bool:
    data = Path(path).read_bytes()
    return data.startswith(b"\x89PNG") and len(data) > 2000


def test_every_plot_writes_its_png(tmp_path):
    rng = np.random.default_rng(0)
    truth = rng.normal(size=200)
    predicted = truth + rng.normal(0, 0.3, 200)
    sigma = rng.uniform(0.1, 1.0, 200)
    prefix = str(tmp_path / "run")
    spline = PchipInterpolator(np.linspace(0.1, 1, 10), np.linspace(0.1, 1, 10))
    history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7]}
    written = {
        candle.plot_history(prefix, history, "loss"): "run.loss.png",
        candle.plot_scatter(rng.normal(size=(30, 2)), rng.integers(0, 3, 30), prefix + ".latent"): "run.latent.png",
        candle.plot_array(np.arange(10.0), "x", "y", "t", prefix + ".array"): "run.array.png",
        candle.plot_density_observed_vs_predicted(truth, predicted, "auc", prefix): "run_density_predictions.png",
        candle.plot_2d_density_sigma_vs_error(sigma, truth - predicted, "het", prefix): "run_density_std_error.png",
        candle.plot_histogram_error_per_sigma(
            sigma, truth - predicted, "het", prefix
        ): "run_histogram_error_per_std.png",
        candle.plot_decile_predictions(predicted, predicted - 1, predicted + 1, ["5th", "1st", "9th"], "auc", prefix): (
            "run_decile_predictions.png"
        ),
        candle.plot_calibration_interpolation(sigma, truth - predicted, spline, spline, "het", prefix): (
            "run_empirical_calibration_interpolation.png"
        ),
        candle.plot_calibrated_std(truth, predicted, sigma, 0.8, "auc", prefix): "run_calibrated.png",
        candle.plot_contamination(truth, predicted, 0.3, np.column_stack([1 - sigma, sigma]), 0.9, "auc", prefix): (
            "run_contamination.png"
        ),
    }
    for path, name in written.items():
        assert Path(path) == tmp_path / name and _png(path), name

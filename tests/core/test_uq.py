"""Monte-Carlo dropout (candle infer) and the uncertainty report, on both backends."""

import json
from pathlib import Path

import numpy as np
import pytest

from candle_core.plugin_manager import get_plugin_manager
from candle_core.run import build_model_spec
from candle_core.uq import PLOT_PNG, PREDICTIONS_CSV, REPORT_JSON, monte_carlo, report
from tests.helpers import resolve, run


def _model(backend_name: str, argv: list[str]):
    manager = get_plugin_manager()
    params = resolve("bcw", argv)
    benchmark = manager.benchmark("bcw")
    dataset = manager.hook.candle_load_data(benchmark=benchmark, params=params)
    backend = manager.component("backend", backend_name)()
    spec = build_model_spec(benchmark, params, dataset.input_shape, manager.hook)
    from candle_core.training import build

    return backend, build(backend, spec, params), dataset


@pytest.mark.parametrize("backend_name", ["torch", "keras"])
def test_dropout_is_active_in_monte_carlo_samples_only(backend_name):
    backend, model, dataset = _model(backend_name, ["--dropout", "0.3"])
    samples = monte_carlo(backend, model, dataset.x_val, 40, 32)
    assert samples.shape == (40, len(dataset.x_val), 2)
    assert not np.allclose(samples[0], samples[1])  # dropout really active
    deterministic = backend.predict(model, dataset.x_val, 32)
    assert np.abs(samples.mean(axis=0) - deterministic).mean() < 0.05  # (nonlinear: not exactly equal)
    assert np.allclose(backend.predict(model, dataset.x_val, 32), deterministic)  # off outside MC

    backend, model, dataset = _model(backend_name, ["--dropout", "0"])
    still = monte_carlo(backend, model, dataset.x_val, 5, 32)
    # no dropout, no spread: equal up to float rounding (some CPUs' kernels sum in varying order)
    assert np.ptp(still, axis=0).max() < 1e-6 and report(dataset.y_val, still)["mean_std"] < 1e-6


def test_report_figures_on_a_made_up_case():
    y = np.eye(2, dtype=np.float32)[[0, 1, 1, 0]]
    # true-class probability samples: rows 0-1 sure and right, rows 2-3 spread and wrong-ish
    p_true = np.array([[0.99, 0.98, 0.2, 0.7], [0.99, 0.98, 0.6, 0.1]])
    predictions = np.zeros((2, 4, 2))
    for sample in range(2):
        for row in range(4):
            k = int(y[row].argmax())
            predictions[sample, row, k], predictions[sample, row, 1 - k] = p_true[sample, row], 1 - p_true[sample, row]
    figures = report(y, predictions)
    assert figures["error_most_confident_20pct"] == pytest.approx(0.01)
    assert figures["error_least_confident_20pct"] == pytest.approx(0.6)
    assert figures["coverage_1std"] == 0.0 and figures["spearman_error_std"] > 0.5


def test_confident_predictions_have_smaller_errors_on_breast_cancer(candle, candle_dirs, tmp_path):
    results, _ = run("bcw", ["-e", "30", "--output_dir", str(tmp_path)])
    run_dir = Path(results["params"]["run_dir"])
    done = candle("infer", "bcw", "--run", str(run_dir), "--mc-samples", "30")
    assert done.code == 0, done.err
    figures = json.loads((run_dir / REPORT_JSON).read_text())
    assert figures["rows"] == 171 and figures["samples"] == 30
    assert figures["error_most_confident_20pct"] < figures["error_least_confident_20pct"]
    assert figures["spearman_error_std"] > 0.3
    assert "20% most confident" in done.out
    assert (run_dir / PLOT_PNG).stat().st_size > 10_000 and (run_dir / PREDICTIONS_CSV).exists()


def test_infer_errors(candle, tmp_path):
    assert "not a finished run directory" in candle("infer", "bcw", "--run", str(tmp_path)).err
    assert "at least 2 samples" in candle("infer", "bcw", "--run", str(tmp_path), "--mc-samples", "1").err


def test_bootstrap_ensemble_trains_each_model_on_its_own_resample(candle, candle_dirs):
    done = candle("uq", "bootstrap", "bcw", "--models", "3", "--workers", "2", "-e", "15", "--experiment_id", "B")
    assert done.code == 0, done.err
    experiment = candle_dirs / "bcw" / "Output" / "B"
    drawn = [json.loads((experiment / f"RUN_b{i}" / "results.json").read_text())["bootstrap"] for i in range(3)]
    assert [d["seed"] for d in drawn] == [0, 1, 2]
    assert len({d["rows_sha256"] for d in drawn}) == 3  # three different resamples
    assert all(0.55 * 398 < d["distinct_rows"] < 0.72 * 398 for d in drawn)  # with replacement: ~63% distinct
    figures = json.loads((experiment / "bootstrap" / REPORT_JSON).read_text())
    assert figures["samples"] == 3 and figures["rows"] == 171
    assert figures["error_most_confident_20pct"] < figures["error_least_confident_20pct"]
    assert (experiment / "bootstrap" / PLOT_PNG).exists() and "bootstrap" in done.out


def test_target_columns_of_heads_and_autoencoders():
    from candle_core.uq import target_columns

    samples = np.random.default_rng(0).random((4, 3, 5))
    heads = np.array([[0, 1, 0, 0, 0], [0, 0, 0, 1, 0], [1, 0, 0, 0, 0]], dtype=np.float32)  # one label per row
    target, values = target_columns(heads, samples)
    assert np.array_equal(target, np.ones(3)) and np.array_equal(values, samples[:, [0, 1, 2], [1, 3, 0]])
    profiles = np.random.default_rng(1).random((3, 5))  # an autoencoder's targets: every value a row
    target, values = target_columns(profiles, samples)
    assert np.array_equal(target, profiles.ravel()) and values.shape == (4, 15)
    assert np.array_equal(values[:, 7], samples[:, 1, 2])


def test_infer_on_a_variational_autoencoder(candle, candle_dirs):
    flags = ["--data", "synthetic", "--model", "vae", "--feature_subsample", "60", "--dense", "16", "-e", "2"]
    result = candle("run", "p1b1", *flags, "--run_id", "vae")
    assert result.code == 0, result.err
    run_dir = candle_dirs / "p1b1" / "Output" / "EXP000" / "vae"
    result = candle("infer", "p1b1", "--run", str(run_dir), "--mc-samples", "5")
    assert result.code == 0, result.err
    figures = json.loads((run_dir / REPORT_JSON).read_text())
    assert figures["rows"] == 300 * 60 and figures["samples"] == 5  # 10% of 3,000 profiles x 60 genes
    assert figures["mean_std"] > 0  # the latent sample is drawn anew in every Monte-Carlo pass

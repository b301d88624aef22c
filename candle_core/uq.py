"""Uncertainty quantification: Monte-Carlo dropout predictions and the report on them.

``candle infer BENCH --run RUN_DIR --mc-samples N`` rebuilds the run's network, loads its final
weights and predicts the validation rows N times with dropout left on (``PermanentDropout``
behaviour for every dropout layer). Per row it writes the mean and standard deviation of each
output (``uq_predictions.csv``) and a report (``uq_report.json``, ``uq_error_vs_std.png``):

* error of a row: |target − mean prediction| of its target output (the true class's probability
  for a classifier, the value for a regressor; with several regression outputs, as an
  autoencoder's, every output value counts as a row); its uncertainty: that output's std;
* the Pearson and Spearman correlations between error and std;
* coverage: the fraction of rows whose target lies within ±1 and ±2 std of the mean;
* the mean error of the 20% most confident rows (smallest std) against the 20% least confident.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from candle_core.atomic import write_json_atomic, write_text_atomic
from candle_core.device import place
from candle_core.errors import CandleError
from candle_core.plots import error_vs_std_figure, save_figure
from candle_core.plugin_manager import get_plugin_manager
from candle_core.run import build_model_spec

PREDICTIONS_CSV = "uq_predictions.csv"
REPORT_JSON = "uq_report.json"
PLOT_PNG = "uq_error_vs_std.png"
CONFIDENT_FRACTION = 0.2


def monte_carlo(backend: Any, model: Any, x: np.ndarray, samples: int, batch_size: int) -> np.ndarray:
    """``samples`` predictions of every row with dropout active: (samples, rows, outputs)."""
    return backend.predict_samples(model, x, batch_size, samples)


def target_columns(y_true: np.ndarray, predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(target, predictions of the target output): the true class for one-hot targets (also
    one-hot within one head of a multi-head network); for several regression outputs (an
    autoencoder) every output value counts as a row. ``predictions`` is (samples, rows, outputs);
    returns (n,), (samples, n)."""
    flat = y_true.reshape(len(y_true), -1)
    if flat.shape[1] == 1:
        return flat[:, 0], predictions[:, :, 0]
    if np.isin(flat, (0, 1)).all() and (flat.sum(axis=1) == 1).all():
        return np.ones(len(flat)), predictions[:, np.arange(len(flat)), flat.argmax(axis=1)]
    return flat.ravel(), predictions.reshape(len(predictions), -1)


def report(y_true: np.ndarray, predictions: np.ndarray) -> dict[str, Any]:
    """The figures of the module docstring, from targets and (samples, rows, outputs) predictions."""
    import pandas as pd

    target, values = target_columns(y_true, predictions)
    mean, std = values.mean(axis=0), values.std(axis=0)
    error = np.abs(target - mean)
    count = max(1, int(round(CONFIDENT_FRACTION * len(error))))
    order = np.argsort(std, kind="stable")
    varies = std.max() > 0 and error.max() > 0
    return {
        "rows": len(error),
        "samples": len(predictions),
        "mean_error": float(error.mean()),
        "mean_std": float(std.mean()),
        "pearson_error_std": float(pd.Series(error).corr(pd.Series(std))) if varies else None,
        "spearman_error_std": float(pd.Series(error).corr(pd.Series(std), method="spearman")) if varies else None,
        "coverage_1std": float(np.mean(error <= std)),
        "coverage_2std": float(np.mean(error <= 2 * std)),
        "error_most_confident_20pct": float(error[order[:count]].mean()),
        "error_least_confident_20pct": float(error[order[-count:]].mean()),
    }


def write(
    folder: Path, y_true: np.ndarray, predictions: np.ndarray, title: str, speed: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Write the per-row CSV, the report JSON (with ``speed``: where and how fast the samples
    were drawn) and the plot into ``folder``; return the report."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    mean, std = predictions.mean(axis=0), predictions.std(axis=0)
    columns = {"row": np.arange(len(mean))}
    for j in range(mean.shape[1]):
        columns[f"mean_{j}"], columns[f"std_{j}"] = mean[:, j], std[:, j]
    target, values = target_columns(y_true, predictions)
    error = np.abs(target - values.mean(axis=0))
    if len(target) == len(mean):
        columns["target"], columns["error"] = target, error
    else:  # every output value was a row of the report: the CSV gives each row's mean error
        columns["mean_error"] = error.reshape(len(mean), -1).mean(axis=1)
    write_text_atomic(folder / PREDICTIONS_CSV, pd.DataFrame(columns).to_csv(index=False))
    figures = report(y_true, predictions) | ({"inference": dict(speed)} if speed else {})
    write_json_atomic(folder / REPORT_JSON, figures)
    save_figure(error_vs_std_figure(error, values.std(axis=0), figures, title), folder / PLOT_PNG, dpi=110)
    return figures


def restore_run(benchmark_name: str, run_dir: Path) -> tuple[Any, Any, Any, dict[str, Any]]:
    """(backend, model with the run's final weights, data set, parameters) of a finished run."""

    manager = get_plugin_manager()
    benchmark = manager.benchmark(benchmark_name)
    params = load_run(run_dir)
    trained = params.get("model_name")
    if trained and trained != benchmark.name:
        raise CandleError(
            f"{run_dir}: a run of benchmark {trained}, not {benchmark.name}: candle infer {trained} --run ..."
        )
    params.pop("bootstrap_seed", None)  # predict the data set as it is, not the run's resample
    backend = manager.component("backend", params["backend"])()
    dataset = manager.hook.candle_load_data(benchmark=benchmark, params=params)
    spec = build_model_spec(benchmark, params, dataset.input_shape, manager.hook)
    device, _ = place(backend, params)
    params["device"] = device
    model = backend.build(spec, None, params.get("precision", "fp32"), int(params.get("rng_seed", 7102)), device=device)
    backend.load(model, run_dir / "model")
    return backend, model, dataset, params


def rows(dataset: Any, part: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = (dataset.x_test, dataset.y_test) if part == "test" else (dataset.x_val, dataset.y_val)
    if x is None:
        raise CandleError(f"the data set has no {part} part; use --part val")
    return x, y


def infer(benchmark_name: str, run_dir: Path, samples: int, part: str, out: Path) -> dict[str, Any]:
    """``candle infer``: Monte-Carlo dropout predictions of a finished run, written with their report."""
    if samples < 2:
        raise CandleError(f"--mc-samples {samples}: at least 2 samples are needed for a spread")
    backend, model, dataset, params = restore_run(benchmark_name, run_dir)
    x, y = rows(dataset, part)
    started = time.perf_counter()
    predictions = monte_carlo(backend, model, x, samples, int(params["batch_size"]))
    seconds = time.perf_counter() - started
    speed = {"device": params["device"], "seconds": seconds, "samples_per_second": len(x) * samples / seconds}
    return write(out, y, predictions, f"{benchmark_name}, MC dropout x{samples}", speed)


def ensemble(benchmark_name: str, run_dirs: list[Path], part: str, out: Path) -> dict[str, Any]:
    """``candle uq bootstrap``'s last step: every model's deterministic predictions, as samples."""
    if len(run_dirs) < 2:
        raise CandleError(f"an ensemble needs at least 2 trained models, got {len(run_dirs)}")
    predictions, y = [], None
    for run_dir in run_dirs:
        backend, model, dataset, params = restore_run(benchmark_name, run_dir)
        x, y = rows(dataset, part)
        predictions.append(backend.predict(model, x, int(params["batch_size"])))
    if y is None:
        raise CandleError("uq: no runs to predict with")
    return write(out, y, np.stack(predictions), f"{benchmark_name}, bootstrap x{len(run_dirs)}")


def print_summary(figures: Mapping[str, Any], out: Path) -> None:
    rho = figures["spearman_error_std"]
    print(
        f"candle: {figures['rows']} rows x {figures['samples']} samples: mean error {figures['mean_error']:.4g}, "
        f"mean std {figures['mean_std']:.4g}, Spearman(error, std) {'n/a' if rho is None else f'{rho:.3f}'}"
    )
    print(
        f"candle: error of the 20% most confident rows {figures['error_most_confident_20pct']:.4g}, "
        f"of the 20% least confident {figures['error_least_confident_20pct']:.4g}; "
        f"coverage ±1 std {figures['coverage_1std']:.2f}, ±2 std {figures['coverage_2std']:.2f}"
    )
    speed = figures.get("inference")
    if speed:
        print(
            f"candle: {speed['samples_per_second']:.0f} predictions/s on {speed['device']} ({speed['seconds']:.2f} s)"
        )
    print(f"candle: wrote {PREDICTIONS_CSV}, {REPORT_JSON}, {PLOT_PNG} in {out}")


def load_run(run_dir: Path) -> dict[str, Any]:
    """The parameters a finished run recorded (final_params.json)."""
    path = run_dir / "final_params.json"
    if not path.exists():
        raise CandleError(f"{run_dir}: not a finished run directory (no final_params.json)")
    if not (run_dir / "model").is_dir():
        raise CandleError(f"{run_dir}: the run saved no model (no model/ folder)")
    try:
        params = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CandleError(f"{path}: cannot be read ({exc}); the run's parameters are damaged") from None
    if not isinstance(params, dict):
        raise CandleError(f"{path}: not a run's parameters (expected a JSON object)")
    return params

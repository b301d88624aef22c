"""candle_lib's plots, drawn off-screen with matplotlib and saved as PNG (each returns its path)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from candle_core.plots import pyplot, save_figure


@contextmanager
def _figure(path: str | Path, width: float = 8, height: float = 6) -> Iterator[Any]:
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(width, height))
    yield axis
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_figure(figure, Path(path))


def _series(history: Any) -> Mapping[str, Sequence[float]]:
    """A Keras History, or a dict of metric lists."""
    return history.history if hasattr(history, "history") else history


def plot_history(
    out: str,
    history: Any,
    metric: str = "loss",
    val: bool = True,
    title: str | None = None,
    width: float = 8,
    height: float = 4,
) -> str:
    """``metric`` (and ``val_<metric>``) per epoch, saved as ``<out>.<metric>.png``."""
    series = _series(history)
    path = f"{out}.{metric}.png"
    with _figure(path, width, height) as axis:
        for name in (metric, f"val_{metric}") if val else (metric,):
            if name in series:
                axis.plot(range(1, len(series[name]) + 1), series[name], marker="o", label=name)
        axis.set_xlabel("epoch")
        axis.set_title(title or metric)
        axis.legend()
    return path


def plot_metrics(
    history: Any, title: str | None = None, skip_ep: int = 0, outdir: str = ".", add_lr: bool = False
) -> list[str]:
    """One PNG per metric (training and validation together) in ``outdir``, from epoch ``skip_ep``;
    with ``add_lr``, the learning rate on a second axis."""
    series = _series(history)
    paths = []
    for name in [k for k in series if not k.startswith("val_") and k != "lr"]:
        path = str(Path(outdir) / f"{name}.png")
        with _figure(path) as axis:
            for key in (name, f"val_{name}"):
                if key in series:
                    values = list(series[key])[skip_ep:]
                    axis.plot(range(skip_ep + 1, skip_ep + 1 + len(values)), values, label=key)
            if add_lr and "lr" in series:
                twin = axis.twinx()
                twin.plot(range(1, len(series["lr"]) + 1), series["lr"], "k:", label="lr")
                twin.set_ylabel("learning rate")
            axis.set_xlabel("epoch")
            axis.set_title(f"{title}: {name}" if title else name)
            axis.legend()
        paths.append(path)
    return paths


def plot_scatter(data: np.ndarray, classes: np.ndarray, out: str, width: float = 10, height: float = 8) -> str:
    """The first two columns of ``data``, coloured by class, saved as ``<out>.png``."""
    path = f"{out}.png"
    with _figure(path, width, height) as axis:
        points = axis.scatter(data[:, 0], data[:, 1], c=classes, cmap="tab20", s=10)
        axis.figure.colorbar(points, ax=axis)
    return path


def plot_array(nparray: np.ndarray, xlabel: str, ylabel: str, title: str, fname: str) -> str:
    """A line plot of ``nparray``, saved as ``<fname>.png``."""
    path = f"{fname}.png"
    with _figure(path) as axis:
        axis.plot(np.asarray(nparray), lw=2.0)
        axis.set(xlabel=xlabel, ylabel=ylabel, title=title)
    return path


def _name(figprefix: str | None, suffix: str) -> str:
    return f"{figprefix or 'candle'}_{suffix}.png"


def _density(path: str, x: np.ndarray, y: np.ndarray, xlabel: str, ylabel: str) -> str:
    """A 2-D histogram of ``y`` against ``x`` with a colour bar."""
    with _figure(path, 10, 8) as axis:
        counts = axis.hist2d(x, y, bins=50, cmap="viridis")[3]
        axis.figure.colorbar(counts, ax=axis)
        axis.set(xlabel=xlabel, ylabel=ylabel)
    return path


def plot_density_observed_vs_predicted(
    Ytest: np.ndarray, Ypred: np.ndarray, pred_name: str | None = None, figprefix: str | None = None
) -> str:
    """A 2-D histogram of observed against predicted values."""
    return _density(
        _name(figprefix, "density_predictions"),
        Ytest,
        Ypred,
        f"observed {pred_name or ''}",
        f"predicted {pred_name or ''}",
    )


def plot_2d_density_sigma_vs_error(
    sigma: np.ndarray, yerror: np.ndarray, method: str | None = None, figprefix: str | None = None
) -> str:
    """A 2-D histogram of predicted spread against observed error."""
    return _density(_name(figprefix, "density_std_error"), sigma, yerror, f"sigma ({method or ''})", "observed error")


def plot_histogram_error_per_sigma(
    sigma: np.ndarray, yerror: np.ndarray, method: str | None = None, figprefix: str | None = None
) -> str:
    """Histograms of the error in five bins of predicted spread."""
    path = _name(figprefix, "histogram_error_per_std")
    edges = np.quantile(sigma, np.linspace(0, 1, 6))
    with _figure(path, 10, 8) as axis:
        for low, high in zip(edges[:-1], edges[1:], strict=True):
            chosen = (sigma >= low) & (sigma <= high)
            axis.hist(yerror[chosen], bins=30, alpha=0.5, label=f"sigma {low:.3g}-{high:.3g}")
        axis.set(xlabel="error", title=f"error per sigma ({method or ''})")
        axis.legend()
    return path


def plot_decile_predictions(
    Ypred: np.ndarray,
    Ypred_Lp: np.ndarray,
    Ypred_Hp: np.ndarray,
    decile_list: Sequence[str],
    pred_name: str | None = None,
    figprefix: str | None = None,
) -> str:
    """The median prediction with its low and high quantiles, rows sorted by the median."""
    path = _name(figprefix, "decile_predictions")
    order = np.argsort(Ypred)
    with _figure(path, 10, 8) as axis:
        for values, label in zip((Ypred, Ypred_Lp, Ypred_Hp), decile_list, strict=False):
            axis.plot(np.asarray(values)[order], label=str(label))
        axis.set(xlabel="sample (sorted by median)", ylabel=pred_name or "prediction")
        axis.legend()
    return path


def plot_calibration_interpolation(
    mean_sigma: np.ndarray,
    error: np.ndarray,
    splineobj1: Any,
    splineobj2: Any,
    method: str = "",
    figprefix: str | None = None,
    steps: bool = False,
) -> str:
    """The observed |error| against sigma with both calibration splines."""
    path = _name(figprefix, "empirical_calibration_interpolation")
    grid = np.linspace(np.min(mean_sigma), np.max(mean_sigma), 200)
    with _figure(path, 10, 8) as axis:
        axis.scatter(mean_sigma, np.abs(error), s=4, alpha=0.3, label="observed")
        axis.plot(grid, splineobj1(grid), label="smoothed spline")
        axis.plot(grid, splineobj2(grid), "--", label="re-fitted spline", drawstyle="steps" if steps else "default")
        axis.set(xlabel=f"sigma ({method})", ylabel="|error|")
        axis.legend()
    return path


def plot_calibrated_std(
    y_test: np.ndarray,
    y_pred: np.ndarray,
    std_calibrated: np.ndarray,
    thresC: float,
    pred_name: str | None = None,
    figprefix: str | None = None,
) -> str:
    """Predictions with their calibrated spread as error bars; rows above ``thresC`` spread in red."""
    path = _name(figprefix, "calibrated")
    order = np.argsort(y_test)
    high = std_calibrated[order] > thresC
    with _figure(path, 10, 8) as axis:
        axis.errorbar(np.arange(len(order)), y_pred[order], yerr=std_calibrated[order], fmt="none", alpha=0.3)
        axis.scatter(np.flatnonzero(high), y_pred[order][high], s=6, c="red", label=f"std > {thresC:g}")
        axis.plot(y_test[order], "k", lw=1, label="observed")
        axis.set(xlabel="sample (sorted by observed)", ylabel=pred_name or "prediction")
        axis.legend()
    return path


def plot_contamination(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    sigma: float | np.ndarray,
    T: np.ndarray | None = None,
    thresC: float = 0.1,
    pred_name: str | None = None,
    figprefix: str | None = None,
) -> str:
    """Observed against predicted; with the latent memberships ``T``, rows whose outlier
    probability exceeds ``thresC`` in red; a band of +-2 sigma around the diagonal."""
    path = _name(figprefix, "contamination")
    with _figure(path, 10, 8) as axis:
        outlier = np.zeros(len(y_true), dtype=bool) if T is None else np.asarray(T)[:, 1] > thresC
        axis.scatter(y_true[~outlier], y_pred[~outlier], s=6, label="inlier")
        axis.scatter(y_true[outlier], y_pred[outlier], s=6, c="red", label="outlier")
        line = np.linspace(np.min(y_true), np.max(y_true), 50)
        spread = 2 * float(np.mean(sigma))
        axis.fill_between(line, line - spread, line + spread, alpha=0.2)
        axis.set(xlabel=f"observed {pred_name or ''}", ylabel="predicted")
        axis.legend()
    return path

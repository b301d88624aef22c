"""Pictures saved next to a run's outputs (matplotlib, drawn off-screen)."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from candle_core.atomic import temporary_beside
from candle_core.objective import Objective

PANELS_PER_ROW = 4
MAX_LEGEND_GROUPS = 20


def learning_curve(history: Sequence[dict], path: Path, title: str) -> Path | None:
    """Loss (train and validation) and every other metric per epoch, as a PNG; None if no history."""
    if not history:
        return None
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    names = list(dict.fromkeys(k.removeprefix("val_") for k in history[0] if k not in ("epoch", "seconds", "lr")))
    epochs = [row["epoch"] for row in history]
    columns = min(PANELS_PER_ROW, len(names))
    rows = -(-len(names) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False)
    for axis in axes.flat[len(names) :]:
        axis.set_visible(False)
    for axis, name in zip(axes.flat, names, strict=False):
        for key, style in ((name, "-"), (f"val_{name}", "--")):
            values = [row.get(key) for row in history]
            if any(v is not None for v in values):
                axis.plot(epochs, values, style, marker="o", markersize=3, label=key)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    save_figure(figure, path)
    return path


def embedding_scatter(
    points: np.ndarray, groups: np.ndarray | None, names: Sequence[str] | None, path: Path, title: str
) -> Path:
    """The first two coordinates of an embedding (an autoencoder's latent space), one colour per
    group (e.g. cancer type), as a PNG."""
    plt = pyplot()

    figure, axis = plt.subplots(figsize=(6.4, 5.2))
    if groups is None:
        axis.scatter(points[:, 0], points[:, 1], s=8, alpha=0.6)
    else:
        colours = plt.get_cmap("tab20")
        for group in np.unique(groups):
            chosen = groups == group
            label = names[group] if names is not None and group < len(names) else str(group)
            axis.scatter(points[chosen, 0], points[chosen, 1], s=8, alpha=0.6, color=colours(group % 20), label=label)
        if len(np.unique(groups)) <= MAX_LEGEND_GROUPS:
            axis.legend(fontsize="small", markerscale=2, loc="best")
    axis.set_xlabel("dimension 1")
    axis.set_ylabel("dimension 2")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    save_figure(figure, path)
    return path


def search_progress_figure(points: Sequence[tuple[int, float | None, bool]], objective: Objective) -> Any:
    """Each trial's objective (failed ones marked) and the best so far, from (trial id,
    objective, succeeded) points."""
    plt = pyplot()
    ordered = sorted(points, key=lambda point: point[0])
    ok = [(trial, value) for trial, value, succeeded in ordered if succeeded and value is not None]
    failed = [trial for trial, _, succeeded in ordered if not succeeded]
    best: list[float] = []
    so_far = None
    for _, value, succeeded in ordered:
        if succeeded and objective.better(value, so_far):
            so_far = value
        best.append(so_far if so_far is not None else math.nan)
    figure, axis = plt.subplots(figsize=(7, 4))
    if ok:
        axis.scatter(*zip(*ok, strict=True), s=14, label=f"trial {objective.metric}")
    axis.plot([trial for trial, _, _ in ordered], best, color="C1", label="best so far")
    if failed:
        low = min((value for _, value in ok), default=0.0)
        axis.scatter(failed, [low] * len(failed), marker="x", color="C3", label="failed")
    axis.set_xlabel("trial")
    axis.set_ylabel(f"{objective.metric} ({objective.mode} epoch)")
    axis.grid(alpha=0.3)
    axis.legend()
    return figure


def error_vs_std_figure(error: np.ndarray, std: np.ndarray, figures: Mapping[str, Any], title: str) -> Any:
    """An ensemble's absolute error against its predicted spread, row by row, with the mean per
    decile of spread."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(6, 4.5))
    axes.scatter(std, error, s=8, alpha=0.5, label="rows")
    order = np.argsort(std, kind="stable")
    bins = np.array_split(order, min(10, len(order)))
    axes.plot([std[b].mean() for b in bins], [error[b].mean() for b in bins], "o-", color="C3", label="mean per decile")
    axes.set_xlabel("predicted standard deviation")
    axes.set_ylabel("absolute error")
    rho = figures.get("spearman_error_std")
    axes.set_title(title + (f" (Spearman {rho:.2f})" if rho is not None else ""))
    axes.legend()
    return figure


def svg_text(figure: Any) -> str:
    """``figure`` as inline SVG markup (text kept as text, no XML prologue); closes it."""
    plt = pyplot()
    import matplotlib

    figure.tight_layout()
    buffer = io.StringIO()
    try:
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            figure.savefig(buffer, format="svg")
    finally:
        plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` drawing off-screen (the Agg backend: no display on compute nodes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, path: Path, dpi: int = 100) -> None:
    """Write ``figure`` to ``path`` atomically (a temporary file, then a rename) and close it."""
    plt = pyplot()

    figure.tight_layout()
    fd, temporary = temporary_beside(path)
    os.close(fd)
    try:
        figure.savefig(temporary, dpi=dpi, format="png")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        plt.close(figure)

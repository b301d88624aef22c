"""Pictures saved next to a run's outputs (matplotlib, drawn off-screen)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np

from candle_core.atomic import temporary_beside

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


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` drawing off-screen (the Agg backend: no display on compute nodes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path: Path, dpi: int = 100) -> None:
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

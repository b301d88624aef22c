"""Pictures saved next to a run's outputs (matplotlib, drawn off-screen)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from candle_core.atomic import temporary_beside


def learning_curve(history: Sequence[dict], path: Path, title: str) -> Path | None:
    """Loss (train and validation) and every other metric per epoch, as a PNG; None if no history."""
    if not history:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    names = list(dict.fromkeys(k.removeprefix("val_") for k in history[0] if k not in ("epoch", "seconds", "lr")))
    epochs = [row["epoch"] for row in history]
    figure, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    for axis, name in zip(axes[0], names, strict=True):
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


def save_figure(figure, path: Path, dpi: int = 100) -> None:
    """Write ``figure`` to ``path`` atomically (a temporary file, then a rename) and close it."""
    import matplotlib.pyplot as plt

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

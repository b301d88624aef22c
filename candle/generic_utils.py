"""candle_lib's ``Progbar``, drawn by tqdm."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class Progbar:
    """A progress bar to ``target`` steps; ``update(current, values)`` moves it to ``current`` and
    shows the running mean of each ``(name, value)``, ``add(n, values)`` moves it by ``n``."""

    def __init__(self, target: int | None, width: int = 30, verbose: int = 1, interval: float = 0.01) -> None:
        from tqdm import tqdm

        self.target = target
        self.seen = 0
        self.totals: dict[str, list[float]] = {}
        self.bar = tqdm(total=target, ncols=width + 50, disable=not verbose, mininterval=interval)

    def update(self, current: int, values: Sequence[tuple[str, Any]] | None = None, force: bool = False) -> None:
        for key, value in values or ():
            total = self.totals.setdefault(key, [0.0, 0])
            total[0] += float(value) * max(current - self.seen, 1)
            total[1] += max(current - self.seen, 1)
        if self.totals:
            self.bar.set_postfix({k: f"{s / n:.4g}" for k, (s, n) in self.totals.items()}, refresh=False)
        self.bar.update(current - self.seen)
        self.seen = current
        if self.target is not None and current >= self.target:
            self.bar.close()

    def add(self, n: int, values: Sequence[tuple[str, Any]] | None = None) -> None:
        self.update(self.seen + n, values)

    def mean(self, key: str) -> float:
        """The running mean of ``key`` (for scripts that read back what they logged)."""
        total, count = self.totals[key]
        return total / count

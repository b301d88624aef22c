"""What a training backend must do. The core's training loop (``candle_core.training``) owns
everything else: batching order, validation metrics, learning-rate rules, early stopping,
checkpoint policy, history and results. Backends mirror each other module for module
(``candle_plugins.backends.torch`` and ``candle_plugins.backends.keras``)."""

from __future__ import annotations

import abc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from candle_core.model import ModelSpec

PRECISIONS = ("fp32", "bf16")


class Backend(abc.ABC):
    """A framework that realizes ``ModelSpec`` networks and trains them one epoch at a time."""

    name: str = ""

    @abc.abstractmethod
    def build(
        self,
        spec: ModelSpec,
        weights: list[dict[str, np.ndarray]] | None,
        precision: str,
        seed: int,
        average_gradients: Callable[[list[np.ndarray]], None] | None = None,
    ) -> Any:
        """Realize ``spec`` with its optimizer. ``weights`` (Keras layout, from
        ``candle_core.initializers``) are loaded when given; ``seed`` seeds the framework's
        own random numbers (dropout). ``average_gradients`` (data-parallel training) is called
        every step with the gradients as float numpy arrays, which it averages in place across
        ranks, after the backward pass and before clipping and the optimizer step. Returns
        the backend's model object."""

    @abc.abstractmethod
    def layer_table(self, model: Any) -> list[tuple[str, str, int]]:
        """(layer name, output shape, parameter count) per layer, as the framework sees them."""

    @abc.abstractmethod
    def train_epoch(
        self,
        model: Any,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        order: np.ndarray,
        on_batch: Callable[[], None],
    ) -> dict[str, float]:
        """Train one pass over ``x[order]`` in batches; return the mean training loss and metrics."""

    @abc.abstractmethod
    def predict(
        self, model: Any, x: np.ndarray, batch_size: int, monte_carlo: bool = False, layer: int | None = None
    ) -> np.ndarray:
        """Predictions in inference mode (PermanentDropout stays active anyway; ``monte_carlo``:
        every dropout layer and a VAE's sampling too). ``layer``: the output of the network's
        layer of that index instead (an embedding), in inference mode."""

    @abc.abstractmethod
    def get_learning_rate(self, model: Any) -> float:
        """The optimizer's current base learning rate."""

    @abc.abstractmethod
    def set_learning_rate(self, model: Any, value: float) -> None:
        """Change the optimizer's base learning rate (ReduceLROnPlateau)."""

    @abc.abstractmethod
    def get_weights(self, model: Any) -> list[np.ndarray]:
        """All weights, in layer order."""

    @abc.abstractmethod
    def set_weights(self, model: Any, weights: list[np.ndarray]) -> None:
        """Load arrays shaped and ordered as ``get_weights`` returns them."""

    @abc.abstractmethod
    def save(self, model: Any, directory: Path, include_optimizer: bool = True) -> None:
        """Write weights (and optimizer and random state) as files into an existing, empty directory."""

    @abc.abstractmethod
    def load(self, model: Any, directory: Path) -> None:
        """Restore what ``save`` wrote, loading safely (no arbitrary code from the files)."""

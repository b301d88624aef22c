"""What a training backend must do. The core's training loop (``candle_core.training``) owns
everything else: batching order, validation metrics, learning-rate rules, early stopping,
checkpoint policy, history and results. Backends mirror each other module for module
(``candle_plugins.backends.torch`` and ``candle_plugins.backends.keras``)."""

from __future__ import annotations

import abc
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from candle_core.device import GPU
from candle_core.model import ModelSpec


class GradientSync(Protocol):
    """What a data-parallel run hands a backend (``candle_core.data_parallel.DataParallel``)."""

    device_memory: bool  # True: average_gradients also takes the framework's device tensors

    def average_gradients(self, gradients: list[Any]) -> None:
        """Average the buffers across ranks, in place (numpy arrays; device tensors when
        ``device_memory``)."""


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
        sync: GradientSync | None = None,
        device: str = "cpu",
    ) -> Any:
        """Realize ``spec`` with its optimizer on ``device`` (``"cpu"`` or ``"cuda:N"``, chosen
        by ``candle_core.device``). ``weights`` (Keras layout, from ``candle_core.initializers``)
        are loaded when given; ``seed`` seeds the framework's own random numbers (dropout);
        ``precision`` is one of ``candle_core.device.PRECISIONS``. ``sync`` (data-parallel
        training): every step, after the backward pass and before clipping and the optimizer
        step, ``sync.average_gradients`` averages the gradients across ranks in place — numpy
        arrays (device gradients staged through host memory), or the device tensors themselves
        when ``sync.device_memory``. Returns the backend's model object."""

    def gpus(self) -> list[GPU]:
        """The GPUs this backend's framework can use here (none by default)."""
        return []

    def framework(self) -> str:
        """The framework and version this backend runs on (``candle env``)."""
        return ""

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

    def predict_samples(self, model: Any, x: np.ndarray, batch_size: int, samples: int) -> np.ndarray:
        """``samples`` Monte-Carlo predictions of every row, stacked: (samples, rows, ...).
        Backends that can draw several samples in one pass on the device override this."""
        return np.stack([self.predict(model, x, batch_size, monte_carlo=True) for _ in range(samples)])

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

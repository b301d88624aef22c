"""candle_lib's checkpoint base, on ``candle_core.checkpoint``: the same ``ckpt_*`` keywords,
layout (``<ckpt_directory>/best``, ``epoch_NNNN``, ``latest.json``), atomic writes, checksums
and fallback to the newest intact checkpoint as ``candle run``."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from candle.helper_utils import numeric_logs
from candle_core.checkpoint import Checkpoints


class ModelType(Enum):
    UNKNOWN = 0
    KERAS = 1
    PYTORCH = 2


class CandleCkpt:
    """Checkpoints of a script's model. Subclasses give ``saver``: an object with ``name`` and
    ``save(model, folder, include_optimizer)`` / ``load(model, folder)``.

    ``restart(model)`` loads the checkpoint ``ckpt_restart_mode`` asks for and returns its record
    (``J["epoch"]``: epochs done, the ``initial_epoch`` to continue from) or None;
    ``ckpt_epoch(epoch, logs)`` (epoch counted from 0, as Keras) writes the checkpoints due."""

    saver: Any = None
    model_type = ModelType.UNKNOWN

    def __init__(self, gParams: Mapping[str, Any] | None = None, logger: Any = "DEFAULT", verbose: bool = True) -> None:
        params = dict(gParams or {})
        run_dir = Path(params.get("output_dir") or params.get("run_dir") or ".")
        self.params = params
        self.checkpoints = Checkpoints(params, run_dir)
        self.verbose = verbose
        self.logger = logger
        self.ckpt_model: Any = None

    def set_model(self, model: Any) -> None:
        self.ckpt_model = model

    def restart(self, model: Any = None, verbose: bool = True) -> dict[str, Any] | None:
        model = self.ckpt_model if model is None else model
        meta = self.checkpoints.restore(self.saver, model)
        if meta is None:
            return None
        if verbose and self.verbose:
            print(f"candle: restarting from {self.checkpoints.directory} at epoch {meta['epoch']}")
        return dict(meta)

    def ckpt_epoch(self, epoch: int, metric_value: float | Mapping[str, float] | None = None) -> None:
        """Save after ``epoch`` (0-based); ``metric_value`` is the logs, or the value of
        ``ckpt_save_best_metric``."""
        if isinstance(metric_value, Mapping):
            logs = numeric_logs(metric_value)
        elif metric_value is None:
            logs = {}
        else:
            logs = {self.checkpoints.best_metric: float(metric_value)}
        self.checkpoints.save(self.saver, self.ckpt_model, epoch + 1, logs, {})

    @property
    def directory(self) -> Path:
        return self.checkpoints.directory

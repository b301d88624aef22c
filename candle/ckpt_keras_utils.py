"""candle_lib's Keras checkpoints: ``CandleCkptKeras`` (a Keras 3 callback), and the older
``CandleCheckpointCallback`` / ``restart`` names."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from candle.ckpt_utils import CandleCkpt, ModelType

WEIGHTS_FILE = "model.weights.h5"


class KerasSaver:
    """A Keras model's weights and optimizer variables in one HDF5 weights file."""

    name = "keras"

    def save(self, model: keras.Model, folder: Path, include_optimizer: bool = True) -> None:
        model.save_weights(folder / WEIGHTS_FILE)

    def load(self, model: keras.Model, folder: Path) -> None:
        if getattr(model, "optimizer", None) is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(folder / WEIGHTS_FILE)


class CandleCkptKeras(CandleCkpt, keras.callbacks.Callback):
    """Give it to ``model.fit(callbacks=[...])`` after ``J = ckpt.restart(model)`` and
    ``fit(initial_epoch=J["epoch"])``; it saves at each epoch's end as the ``ckpt_*`` keywords say."""

    saver = KerasSaver()
    model_type = ModelType.KERAS

    def __init__(self, gParams: Mapping[str, Any] | None = None, logger: Any = "DEFAULT", verbose: bool = True) -> None:
        keras.callbacks.Callback.__init__(self)
        CandleCkpt.__init__(self, gParams, logger, verbose)

    def set_model(self, model: keras.Model) -> None:
        keras.callbacks.Callback.set_model(self, model)
        self.ckpt_model = model

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.ckpt_epoch(epoch, dict(logs or {}))


class CandleCheckpointCallback(CandleCkptKeras):
    """candle_lib's earlier name for ``CandleCkptKeras``."""


def restart(gParameters: Mapping[str, Any], model: keras.Model, verbose: bool = True) -> dict[str, Any] | None:
    """candle_lib's earlier restart function: load the checkpoint the parameters ask for into
    ``model``; return its record (``["epoch"]``: epochs done) or None."""
    return CandleCkptKeras(gParameters, verbose=verbose).restart(model, verbose)


class MultiGPUCheckpoint:
    """Keras 2's checkpoint of a ``multi_gpu_model``, which Keras 3 no longer has."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "MultiGPUCheckpoint saved Keras 2's multi_gpu_model, which Keras 3 removed; checkpoint the model "
            "with candle.CandleCkptKeras, and train on several GPUs with candle run --comm (data-parallel ranks)"
        )

"""candle_lib's PyTorch checkpoints, on ``candle_core.checkpoint``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from candle.ckpt_utils import CandleCkpt, ModelType

CHECKPOINT_FILE = "checkpoint.pt"


def _parts(model: Any) -> tuple[torch.nn.Module, torch.optim.Optimizer | None]:
    """The network and optimizer of ``set_model``'s argument: a module, or
    ``{"model": module, "optimizer": optimizer}`` as candle_lib takes it."""
    if isinstance(model, Mapping):
        return model["model"], model.get("optimizer")
    return model, None


class TorchSaver:
    """The network, the optimizer (when given) and the random state, device-neutral."""

    name = "torch"

    def save(self, model: Any, folder: Path, include_optimizer: bool = True) -> None:
        network, optimizer = _parts(model)
        state = {
            "model": {k: v.detach().cpu() for k, v in network.state_dict().items()},
            "rng": torch.get_rng_state(),
        }
        if optimizer is not None and include_optimizer:
            state["optimizer"] = optimizer.state_dict()
        torch.save(state, folder / CHECKPOINT_FILE)

    def load(self, model: Any, folder: Path) -> None:
        network, optimizer = _parts(model)
        device = next(network.parameters()).device
        state = torch.load(folder / CHECKPOINT_FILE, map_location=device, weights_only=True)
        network.load_state_dict(state["model"])
        if optimizer is not None and "optimizer" in state:
            optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"].cpu())


class CandleCkptPyTorch(CandleCkpt):
    """``ckpt.set_model({"model": net, "optimizer": opt})``, ``J = ckpt.restart()`` (continue from
    epoch ``J["epoch"]``), then ``ckpt.ckpt_epoch(epoch, val_loss)`` after each epoch."""

    saver = TorchSaver()
    model_type = ModelType.PYTORCH

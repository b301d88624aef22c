"""candle_lib's cyclical learning rate for Keras (``candle_core.cyclic_lr``)."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

import keras

from candle_core.cyclic_lr import MODES, cyclic_rate

CLR_KEYS = ("clr_mode", "clr_base_lr", "clr_max_lr", "clr_gamma")
EXCLUSIVE = ("warmup_lr", "reduce_lr")


def clr_check_args(args: MutableMapping[str, Any]) -> bool:
    """Whether all four clr_* keywords are present."""
    return all(key in args for key in CLR_KEYS)


def clr_set_args(args: MutableMapping[str, Any]) -> dict[str, Any]:
    """``CyclicLR``'s arguments from the clr_* keywords; turns off ``warmup_lr`` and ``reduce_lr``
    (they would fight over the rate), saying so. Incomplete keywords give ``mode`` None."""
    if clr_check_args(args) and args["clr_mode"] is not None:
        for key in EXCLUSIVE:
            if args.get(key) is True:
                print(f"candle: {key} conflicts with the cyclic learning rate; turned off")
                args[key] = False
        return {
            "mode": args["clr_mode"],
            "base_lr": args["clr_base_lr"],
            "max_lr": args["clr_max_lr"],
            "gamma": args["clr_gamma"],
        }
    print("candle: incomplete cyclic learning-rate keywords (clr_mode, clr_base_lr, clr_max_lr, clr_gamma); none used")
    return {"mode": None, "base_lr": 0.1, "max_lr": 0.1, "gamma": 0.1}


def clr_callback(mode: str | None = None, base_lr: float = 1e-4, max_lr: float = 1e-3, gamma: float = 0.999994):
    """A ``CyclicLR`` for CANDLE's clr_mode (trng1, trng2, exp) or a mode's own name."""
    return CyclicLR(base_lr=base_lr, max_lr=max_lr, mode=MODES.get(mode, mode or "triangular"), gamma=gamma)


class CyclicLR(keras.callbacks.Callback):
    """Set the optimizer's learning rate after every batch by the cyclical policy; ``history``
    keeps the rate and iteration of each batch, and each epoch's logs get ``lr``. A custom
    ``scale_fn`` (of the cycle, or of the iterations with ``scale_mode='iterations'``) replaces the
    mode's scaling."""

    def __init__(
        self,
        base_lr: float = 0.001,
        max_lr: float = 0.006,
        step_size: float = 2000.0,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
    ) -> None:
        super().__init__()
        if MODES.get(mode, mode) not in MODES.values():
            raise ValueError(f"mode must be one of triangular, triangular2, exp_range, got {mode!r}")
        self.base_lr, self.max_lr, self.step_size = base_lr, max_lr, step_size
        self.mode, self.gamma = MODES.get(mode, mode), gamma
        self.scale_fn, self.scale_mode = scale_fn, scale_mode
        self.clr_iterations = 0.0
        self.trn_iterations = 0.0
        self.history: dict[str, list[float]] = {}

    def clr(self) -> float:
        if self.scale_fn is None:
            return cyclic_rate(self.clr_iterations, self.base_lr, self.max_lr, self.step_size, self.mode, self.gamma)
        unscaled = cyclic_rate(self.clr_iterations, 0.0, 1.0, self.step_size, "triangular")
        cycle = 1 + self.clr_iterations // (2 * self.step_size)
        argument = cycle if self.scale_mode == "cycle" else self.clr_iterations
        return self.base_lr + (self.max_lr - self.base_lr) * unscaled * self.scale_fn(argument)

    def _set(self, rate: float) -> None:
        self.model.optimizer.learning_rate.assign(rate)

    def on_train_begin(self, logs: Any = None) -> None:
        self._set(self.base_lr if self.clr_iterations == 0 else self.clr())

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self.trn_iterations += 1
        self.clr_iterations += 1
        rate = self.clr()
        self._set(rate)
        self.history.setdefault("lr", []).append(rate)
        self.history.setdefault("iterations", []).append(self.trn_iterations)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if logs is not None:
            logs["lr"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

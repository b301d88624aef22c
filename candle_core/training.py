"""The training loop, once for every backend.

Per epoch: the batch order (seeded by ``rng_seed`` and the epoch, so a resumed run sees the
same batches), one backend pass, validation metrics computed here from the backend's
predictions, ReduceLROnPlateau (``reduce_lr``), early stopping (``early_stop``), checkpoints,
history and the CANDLE ``timeout``. At the end: the final model in ``<run_dir>/model``,
test metrics when the data set has a test part, and ``learning_curve.png``.

Learning-rate rule: the optimizer starts at ``learning_rate`` (Keras' default for the optimizer
when None); only ``decay`` (per step, lr / (1 + decay * step)) or ``reduce_lr`` (times
``reduce_lr_factor`` after ``reduce_lr_patience`` epochs without improvement of ``monitor``,
not below ``min_lr``) change it, and only when asked. The two cannot be combined.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from candle_core.backend import PRECISIONS, Backend
from candle_core.checkpoint import Checkpoints
from candle_core.data.dataset import Dataset
from candle_core.errors import CandleError
from candle_core.initializers import initial_weights
from candle_core.metrics import evaluate
from candle_core.model import ModelSpec
from candle_core.objective import improved
from candle_core.run import RunContext

MODEL_DIR = "model"


@dataclass
class LoopState:
    """What the loop remembers between epochs (saved in checkpoints)."""

    epoch: int = 0
    monitor_best: float | None = None
    monitor_best_epoch: int | None = None
    epochs_without_improvement: int = 0
    epochs_since_lr_change: int = 0


def _check(params: Mapping[str, Any], spec: ModelSpec) -> None:
    if params.get("reduce_lr") and spec.optimizer.decay:
        raise CandleError("reduce_lr and decay both change the learning rate; choose one")
    if params.get("precision", "fp32") not in PRECISIONS:
        raise CandleError(f"precision '{params.get('precision')}' is not one of {', '.join(PRECISIONS)}")


def _batch_bar(total: int, epoch: int):
    from tqdm import tqdm

    return tqdm(total=total, desc=f"epoch {epoch}", unit="batch", disable=None, leave=False)


def build(backend: Backend, spec: ModelSpec, params: Mapping[str, Any]) -> Any:
    """The backend's model with candle's initial weights for this seed."""
    seed = int(params.get("rng_seed", 7102))
    weights = initial_weights(spec.infos(), spec.initializer, seed)
    return backend.build(spec, weights, params.get("precision", "fp32"), seed)


def fit(backend: Backend, spec: ModelSpec, dataset: Dataset, params: Mapping[str, Any], context: RunContext) -> dict:
    """Train and validate; return what results.json should add about the model."""
    _check(params, spec)
    model = build(backend, spec, params)
    run_dir = Path(context.run_dir)
    checkpoints = Checkpoints(params, run_dir)
    state = LoopState()
    meta = checkpoints.restore(backend, model)
    if meta is not None:
        state = LoopState(**meta["state"])
        context.restore_history(meta["history"])
    resumed_from = state.epoch if meta is not None else None

    batch_size, monitor = int(params["batch_size"]), params.get("monitor") or "val_loss"
    n_batches = -(-len(dataset.x_train) // batch_size)
    for epoch in range(state.epoch + 1, int(params["epochs"]) + 1):
        order = np.random.default_rng([int(params.get("rng_seed", 7102)), epoch]).permutation(len(dataset.x_train))
        with _batch_bar(n_batches, epoch) as bar:
            logs = backend.train_epoch(model, dataset.x_train, dataset.y_train, batch_size, order, bar.update)
        predictions = backend.predict(model, dataset.x_val, batch_size)
        logs.update(evaluate(spec.loss, spec.metrics, dataset.y_val, predictions, prefix="val_"))
        logs["lr"] = backend.get_learning_rate(model)
        stop = _after_epoch(state, epoch, logs, monitor, params, backend, model)
        keep_going = context.end_epoch(epoch, logs)
        checkpoints.save(backend, model, epoch, logs, {"state": asdict(state), "history": context.history})
        if stop:
            context.stop(stop)
        if stop or not keep_going:
            break

    _save_model(backend, model, run_dir)
    extra: dict[str, Any] = {
        "backend": backend.name,
        "parameters": spec.n_params,
        "resumed_from_epoch": resumed_from,
        "model_dir": str(run_dir / MODEL_DIR),
    }
    if dataset.x_test is not None:
        predictions = backend.predict(model, dataset.x_test, batch_size)
        extra["test"] = evaluate(spec.loss, spec.metrics, dataset.y_test, predictions, prefix="test_")
    return extra


def _after_epoch(
    state: LoopState, epoch: int, logs: dict, monitor: str, params: Mapping[str, Any], backend: Backend, model: Any
) -> str | None:
    """Update the loop state; apply ReduceLROnPlateau; return a reason to stop early, or None."""
    state.epoch = epoch
    value = logs.get(monitor)
    if value is None:
        raise CandleError(f"monitor '{monitor}' is not among the metrics {', '.join(sorted(logs))}")
    if improved(monitor, value, state.monitor_best, float(params.get("min_delta") or 0.0)):
        state.monitor_best, state.monitor_best_epoch = value, epoch
        state.epochs_without_improvement = state.epochs_since_lr_change = 0
        return None
    state.epochs_without_improvement += 1
    state.epochs_since_lr_change += 1
    if params.get("reduce_lr") and state.epochs_since_lr_change >= int(params.get("reduce_lr_patience") or 10):
        rate = backend.get_learning_rate(model)
        new_rate = max(rate * float(params.get("reduce_lr_factor") or 0.1), float(params.get("min_lr") or 0.0))
        if new_rate < rate:
            backend.set_learning_rate(model, new_rate)
        state.epochs_since_lr_change = 0
    patience = int(params.get("early_stop_patience") or 10)
    if params.get("early_stop") and state.epochs_without_improvement >= patience:
        return (
            f"early stop: {monitor} did not improve for {patience} epochs "
            f"(best {state.monitor_best:.6g} at epoch {state.monitor_best_epoch})"
        )
    return None


def _save_model(backend: Backend, model: Any, run_dir: Path) -> None:
    target, temporary = run_dir / MODEL_DIR, run_dir / f".{MODEL_DIR}.partial"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    backend.save(model, temporary, include_optimizer=False)
    shutil.rmtree(target, ignore_errors=True)
    temporary.rename(target)

"""The training loop, once for every backend.

Per epoch: the batch order (``shuffle``, default on: seeded by ``rng_seed`` and the epoch, so
a resumed run sees the same batches; off: the rows' own order), limited by ``train_steps`` and
``train_samples``, one backend pass (the first epoch under the framework's profiler with
``profiling``), validation metrics computed here from the backend's
predictions, ReduceLROnPlateau (``reduce_lr``), early stopping (``early_stop``), checkpoints,
history and the CANDLE ``timeout``. At the end: the final model in ``<run_dir>/model``,
test metrics when the data set has a test part, and ``learning_curve.png``.

Learning-rate rule: the optimizer starts at ``learning_rate`` (Keras' default for the optimizer
when None); only ``decay`` (per step, lr / (1 + decay * step)), ``reduce_lr`` (times
``reduce_lr_factor`` after ``reduce_lr_patience`` epochs without improvement of ``monitor``,
not below ``min_lr``) or ``clr_flag`` (CANDLE's cyclic rate, set before every batch,
``candle_core.cyclic_lr``) change it, and only when asked. No two of them combine.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from candle_core.checkpoint import Checkpoints
from candle_core.contracts import Backend
from candle_core.cyclic_lr import schedule_from
from candle_core.data.dataset import Dataset
from candle_core.data_parallel import DataParallel
from candle_core.device import check_precision
from candle_core.errors import CandleError
from candle_core.initializers import initial_weights
from candle_core.metrics import evaluate
from candle_core.model import ModelSpec
from candle_core.objective import Objective
from candle_core.plots import embedding_scatter
from candle_core.run_context import WALLTIME_STOP, RunContext

MODEL_DIR = "model"
LATENT_PNG = "latent.png"
PROFILE_DIR = "profile"

logger = logging.getLogger(__name__)


@dataclass
class LoopState:
    """What the loop remembers between epochs (saved in checkpoints)."""

    epoch: int = 0
    monitor_best: float | None = None
    monitor_best_epoch: int | None = None
    epochs_without_improvement: int = 0
    epochs_since_lr_change: int = 0
    batches: int = 0  # trained so far, for the cyclic learning rate


def _check(params: Mapping[str, Any], spec: ModelSpec) -> None:
    if params.get("reduce_lr") and spec.optimizer.decay:
        raise CandleError("reduce_lr and decay both change the learning rate; choose one")
    check_precision(params.get("precision", "fp32"), "cpu")


def limited(dataset: Dataset, params: Mapping[str, Any], batch_size: int) -> Dataset:
    """The data set cut to the first rows that ``train_samples``, ``val_samples``,
    ``val_steps`` and ``test_steps`` allow (0 or None: no limit)."""

    def first(*limits: Any) -> int | None:
        """The smallest limit given (a slice end), None when none is."""
        given = [int(limit) for limit in limits if limit]
        return min(given) if given else None

    val_steps, test_steps = int(params.get("val_steps") or 0), int(params.get("test_steps") or 0)
    n_train = first(params.get("train_samples"))
    n_val = first(params.get("val_samples"), val_steps * batch_size)
    n_test = first(test_steps * batch_size)
    cut = dataclasses.replace(
        dataset,
        x_train=dataset.x_train[:n_train],
        y_train=dataset.y_train[:n_train],
        x_val=dataset.x_val[:n_val],
        y_val=dataset.y_val[:n_val],
        val_groups=None if dataset.val_groups is None else dataset.val_groups[:n_val],
    )
    if dataset.x_test is not None and dataset.y_test is not None:
        cut = dataclasses.replace(cut, x_test=dataset.x_test[:n_test], y_test=dataset.y_test[:n_test])
    if (len(cut.x_train), len(cut.x_val)) != (len(dataset.x_train), len(dataset.x_val)):
        logger.info("rows used: %d training, %d validation", len(cut.x_train), len(cut.x_val))
    return cut


def batch_order(params: Mapping[str, Any], epoch: int, rows: int, batch_size: int) -> np.ndarray:
    """The rows of one epoch in training order: shuffled (seeded by ``rng_seed`` and the epoch)
    unless ``shuffle`` is false, and cut to ``train_steps`` batches when given."""
    if params.get("shuffle") is False:
        order = np.arange(rows)
    else:
        order = np.random.default_rng([int(params.get("rng_seed", 7102)), epoch]).permutation(rows)
    steps = params.get("train_steps")
    return order[: int(steps) * batch_size] if steps else order


def _batch_bar(total: int, epoch: int, show: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=f"epoch {epoch}", unit="batch", disable=None if show else True, leave=False)


def build(
    backend: Backend,
    spec: ModelSpec,
    params: Mapping[str, Any],
    parallel: DataParallel | None = None,
    device: str = "cpu",
) -> Any:
    """The backend's model on ``device`` with candle's initial weights for this seed (in a
    data-parallel run: rank 0's weights, gradients averaged across ranks, dropout seeded per rank)."""
    seed = int(params.get("rng_seed", 7102))
    weights = initial_weights(spec.infos(), spec.initializer, seed)
    precision = params.get("precision", "fp32")
    if parallel is None:
        return backend.build(spec, weights, precision, seed, device=device)
    return backend.build(spec, weights, precision, seed + parallel.rank, parallel, device=device)


def fit(
    backend: Backend,
    spec: ModelSpec,
    dataset: Dataset,
    params: Mapping[str, Any],
    context: RunContext,
    parallel: DataParallel | None = None,
    device: str = "cpu",
) -> dict:
    """Train and validate on ``device`` (``candle_core.device.place``); return what results.json
    should add about the model.

    ``parallel``: this process is one rank of a data-parallel run (``candle_core.data_parallel``).
    """
    _check(params, spec)
    schedule = schedule_from(params)
    writes = parallel is None or parallel.is_root
    batch_size, monitor = int(params["batch_size"]), params.get("monitor") or "val_loss"
    dataset = limited(dataset, params, batch_size)
    model = build(backend, spec, params, parallel, device)
    run_dir = Path(context.run_dir)
    checkpoints = Checkpoints(params, run_dir)
    state = LoopState()
    meta = checkpoints.restore(backend, model)
    if meta is not None:
        state = LoopState(**meta["state"])
        context.restore_history(meta["history"])
    resumed_from = state.epoch if meta is not None else None
    if parallel is not None:
        parallel.check_same(len(dataset.x_train), "the number of training samples")
        parallel.check_same(state.epoch, "the epoch to resume from (is the checkpoint directory on a shared disk?)")
        backend.set_weights(model, parallel.broadcast(backend.get_weights(model)))
    if writes and meta is None:
        context.graph(_graph(backend, model, dataset.input_shape))

    first_epoch = state.epoch + 1
    for epoch in range(first_epoch, int(params["epochs"]) + 1):
        order = batch_order(params, epoch, len(dataset.x_train), batch_size)
        if parallel is not None:
            order = parallel.shard(order, batch_size)
        profiling = params.get("profiling") and epoch == first_epoch and writes
        with (
            _batch_bar(-(-len(order) // batch_size), epoch, writes) as bar,
            backend.profiler(model, run_dir / PROFILE_DIR) if profiling else nullcontext(),
        ):
            after_batch = _after_batch(backend, model, state, schedule, bar.update)
            logs = backend.train_epoch(model, dataset.x_train, dataset.y_train, batch_size, order, after_batch)
        if parallel is not None:
            logs = parallel.mean_metrics(logs)
        predictions = _predict(backend, model, dataset.x_val, batch_size, parallel)
        logs.update(evaluate(spec.loss, spec.metrics, dataset.y_val, predictions, "val_", spec.heads))
        logs["lr"] = backend.get_learning_rate(model)
        stop = _after_epoch(state, epoch, logs, monitor, params, backend, model)
        keep_going = context.end_epoch(epoch, logs)
        if parallel is not None:  # the timeout is measured on rank 0
            keep_going = bool(parallel.same_on_all(int(keep_going)))
        if writes:  # stopping for the walltime: a checkpoint whatever the interval, for the next job
            checkpoints.save(
                backend,
                model,
                epoch,
                logs,
                {"state": asdict(state), "history": context.history},
                always=context.stop_reason == WALLTIME_STOP,
            )
        if stop:
            context.stop(stop)
        if stop or not keep_going:
            break

    extra: dict[str, Any] = {
        "backend": backend.name,
        "parameters": spec.n_params,
        "resumed_from_epoch": resumed_from,
        "model_dir": str(run_dir / MODEL_DIR),
    }
    if writes:
        _save_model(backend, model, run_dir)
        plot = _plot_embedding(backend, model, spec, dataset, run_dir, batch_size) if spec.embedding else None
        if plot is not None:
            extra["embedding_plot"] = str(plot)
    if dataset.x_test is not None and dataset.y_test is not None:
        predictions = _predict(backend, model, dataset.x_test, batch_size, parallel)
        extra["test"] = evaluate(spec.loss, spec.metrics, dataset.y_test, predictions, "test_", spec.heads)
    return extra


def _after_batch(
    backend: Backend, model: Any, state: LoopState, schedule: Callable[[int], float] | None, update: Callable[[], Any]
) -> Callable[[], None]:
    """What runs after every batch: the progress bar, and the cyclic rate for the next batch (set
    here for the epoch's first batch too)."""
    if schedule is not None:
        backend.set_learning_rate(model, schedule(state.batches))

    def after_batch() -> None:
        update()
        state.batches += 1
        if schedule is not None:
            backend.set_learning_rate(model, schedule(state.batches))

    return after_batch


def _graph(backend: Backend, model: Any, input_shape: tuple[int, ...]) -> Any | None:
    """The backend's model graph for TensorBoard; a framework that cannot trace this model
    costs a log line, not the run."""
    try:
        return backend.graph(model, input_shape)
    except Exception as exc:  # tracing is best effort: e.g. a layer the tracer does not know
        logger.info("no model graph for TensorBoard: %s: %s", type(exc).__name__, exc)
        return None


def _predict(backend: Backend, model: Any, x: np.ndarray, batch_size: int, parallel: DataParallel | None) -> np.ndarray:
    """Predictions for every row of ``x``; a data-parallel run splits the rows between ranks."""
    if parallel is None or len(x) < parallel.size:
        return backend.predict(model, x, batch_size)
    part = backend.predict(model, x[parallel.rows(len(x))], batch_size)
    return parallel.gather_rows(part, len(x))


def _after_epoch(
    state: LoopState, epoch: int, logs: dict, monitor: str, params: Mapping[str, Any], backend: Backend, model: Any
) -> str | None:
    """Update the loop state; apply ReduceLROnPlateau; return a reason to stop early, or None."""
    state.epoch = epoch
    value = logs.get(monitor)
    if value is None:
        raise CandleError(f"monitor '{monitor}' is not among the metrics {', '.join(sorted(logs))}")
    if Objective(monitor).better(value, state.monitor_best, float(params.get("min_delta") or 0.0)):
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


def _plot_embedding(
    backend: Backend, model: Any, spec: ModelSpec, dataset: Dataset, run_dir: Path, batch_size: int
) -> Path | None:
    """``latent.png``: the validation rows in the embedding's first two dimensions (None if it has one)."""
    if spec.embedding is None or spec.embedding[1] < 2:
        return None
    layer, width = spec.embedding
    points = backend.predict(model, dataset.x_val, batch_size, layer=layer).reshape(len(dataset.x_val), -1)
    title = f"{spec.name}: {spec.infos()[layer].kind} layer {layer}, validation rows"
    return embedding_scatter(points[:, :width], dataset.val_groups, dataset.group_names, run_dir / LATENT_PNG, title)


def _save_model(backend: Backend, model: Any, run_dir: Path) -> None:
    target = Path(os.path.realpath(run_dir / MODEL_DIR))  # where a node cache's link points, if one does
    temporary = target.parent / f".{MODEL_DIR}.partial"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    backend.save(model, temporary, include_optimizer=False)
    shutil.rmtree(target, ignore_errors=True)
    temporary.rename(target)

"""The run lifecycle: run directory, final parameters, per-epoch history, timeout, results.json.

These services are the same for every benchmark and backend, so they live here once.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from candle_core.atomic import write_json_atomic, write_text_atomic
from candle_core.cluster import walltime
from candle_core.errors import CandleError
from candle_core.objective import is_maximized
from candle_core.parameters.config_file import format_config

if TYPE_CHECKING:
    import pluggy

    from candle_core.benchmark import Benchmark
    from candle_core.data_parallel import DataParallel

FINAL_PARAMS_JSON = "final_params.json"
FINAL_PARAMS_TEXT = "final_params.txt"
HISTORY_CSV = "history.csv"
HISTORY_JSON = "history.json"
RESULTS_JSON = "results.json"
FAILED_ATTEMPT_JSON = "failed_attempt.json"  # a failed restart of a finished run: its results.json stays
LEARNING_CURVE_PNG = "learning_curve.png"


def write_final_parameters(run_dir: Path, values: Mapping[str, Any]) -> None:
    """Write the final parameters as JSON and as a CANDLE model file (usable as --config_file)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    plain = {key: value for key, value in values.items() if key not in ("run_dir", "data_dir", "config_file")}
    write_json_atomic(run_dir / FINAL_PARAMS_JSON, dict(values))
    write_text_atomic(run_dir / FINAL_PARAMS_TEXT, format_config(plain))


WALLTIME_STOP = "walltime: the batch job's warning came; stopped with a checkpoint, resumable (ckpt_restart_mode auto)"


def timeout_reason(elapsed: float, last_epoch_seconds: float, timeout: float) -> str | None:
    """CANDLE's ``timeout`` (seconds, <= 0: none) as candle applies it: training stops when the
    next epoch, if as long as the last, would end after the limit. The reason, or None."""
    if timeout > 0 and elapsed + last_epoch_seconds > timeout:
        return (
            f"timeout: {elapsed:.1f} s elapsed and the next epoch (~{last_epoch_seconds:.1f} s) "
            f"would end after the {timeout:g} s limit"
        )
    return None


class RunContext:
    """What a training procedure reports to while it runs.

    Call ``end_epoch(epoch, metrics)`` after each epoch; it writes the history, notifies
    plugins, moves the progress bar, and returns False when training must stop (CANDLE's
    ``timeout``: the next epoch would not end before it; the batch job's walltime warning,
    ``cluster.walltime``). Call ``stop(reason)`` to stop for another reason (early stopping).
    """

    def __init__(
        self,
        params: Mapping[str, Any],
        run_dir: Path,
        hook: Any,
        total_epochs: int | None = None,
        writes: bool = True,
    ) -> None:
        self.params = params
        self.run_dir = run_dir
        self.hook = hook
        self.writes = writes  # False on the other ranks of a data-parallel run: rank 0 reports
        self.history: list[dict[str, float]] = []
        self.stop_reason: str | None = None
        self.started = time.time()
        self._epoch_started = time.monotonic()
        self._epoch_seconds: list[float] = []
        self._timeout = float(params.get("timeout") or -1)
        self._bar = _progress_bar(total_epochs, params.get("model_name", "run")) if writes else None

    @property
    def elapsed(self) -> float:
        return time.time() - self.started

    def end_epoch(self, epoch: int, metrics: Mapping[str, float]) -> bool:
        now = time.monotonic()
        seconds = now - self._epoch_started
        self._epoch_started = now
        self._epoch_seconds.append(seconds)
        row = {"epoch": epoch, **{k: float(v) for k, v in metrics.items()}, "seconds": round(seconds, 6)}
        self.history.append(row)
        self._write_history()
        if self.writes:
            self.hook.candle_epoch_end(params=self.params, epoch=epoch, metrics=dict(metrics))
        if self._bar is not None:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in metrics.items()}, refresh=False)
            self._bar.update(1)
        reason = timeout_reason(self.elapsed, seconds, self._timeout)
        if reason:
            self.stop(reason)
        if walltime.warned():
            self.stop(WALLTIME_STOP)
        return self.stop_reason is None

    def restore_history(self, rows: list[dict[str, float]]) -> None:
        """Continue a resumed run's history from its checkpoint."""
        self.history = [dict(row) for row in rows]
        self._write_history()
        if self._bar is not None:
            self._bar.update(len(rows))

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason

    def _write_history(self) -> None:
        if not self.writes:
            return
        columns: list[str] = []
        for row in self.history:
            columns += [key for key in row if key not in columns]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        writer.writerows(self.history)
        write_text_atomic(self.run_dir / HISTORY_CSV, buffer.getvalue())
        write_json_atomic(self.run_dir / HISTORY_JSON, self.history)

    def objective_summary(self, metric: str | None = None) -> dict[str, Any]:
        """Best and last value of the objective metric (default val_loss, else loss)."""
        if metric is None:
            metric = "val_loss" if any("val_loss" in row for row in self.history) else "loss"
        series = [(row["epoch"], row[metric]) for row in self.history if metric in row and not math.isnan(row[metric])]
        maximize = is_maximized(metric)
        summary: dict[str, Any] = {"metric": metric, "mode": "max" if maximize else "min"}
        if series:
            best_epoch, best = (max if maximize else min)(series, key=lambda item: item[1])
            summary.update(best=best, best_epoch=best_epoch, last=series[-1][1], last_epoch=series[-1][0])
        return summary

    def finish(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Write results.json and return it."""
        if self._bar is not None:
            self._bar.close()
        wall = self.elapsed
        curve = None
        if self.params.get("plots", True) and self.writes:
            from candle_core.plots import learning_curve

            curve = learning_curve(self.history, self.run_dir / LEARNING_CURVE_PNG, str(self.params.get("model_name")))
        results = {
            "objective": self.objective_summary(),
            "epochs_run": len(self.history),
            "stop_reason": self.stop_reason or "completed",
            "timings": {
                "started": self.started,
                "wall_seconds": wall,
                "mean_epoch_seconds": sum(self._epoch_seconds) / len(self._epoch_seconds)
                if self._epoch_seconds
                else None,
            },
            "final_metrics": self.history[-1] if self.history else {},
            "learning_curve": str(curve) if curve else None,
            **(extra or {}),
            "params": dict(self.params),
        }
        if self.writes:
            write_json_atomic(self.run_dir / self._results_name(results), results)
        return results

    def _results_name(self, results: Mapping[str, Any]) -> str:
        """results.json, unless this attempt failed and the run had finished before: a finished
        run's results are never replaced by a failed attempt's (which goes beside them)."""
        if results.get("status") != "failed":
            return RESULTS_JSON
        try:
            earlier = json.loads((self.run_dir / RESULTS_JSON).read_text())
        except (OSError, ValueError):
            return RESULTS_JSON
        return FAILED_ATTEMPT_JSON if isinstance(earlier, dict) and earlier.get("status") == "ok" else RESULTS_JSON


def _progress_bar(total: int | None, name: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=str(name), unit="epoch", disable=None, leave=True)


def run_benchmark(
    benchmark: Benchmark, params: Mapping[str, Any], plugin_manager: pluggy.PluginManager
) -> dict[str, Any]:
    """Run one benchmark with resolved parameters; return what was written to results.json.

    With ``comm`` set, this is one rank of a data-parallel run (``candle_core.data_parallel``):
    rank 0 writes the run directory and calls the run hooks, the other ranks only train.
    With ``n_fold`` > 1 and no ``fold``, every fold runs in turn (see ``run_folds``).
    """
    if int(params.get("n_fold") or 1) > 1 and params.get("fold") is None:
        return run_folds(benchmark, params, plugin_manager)
    return _run_once(benchmark, params, plugin_manager)


def run_folds(benchmark: Benchmark, params: Mapping[str, Any], plugin_manager: pluggy.PluginManager) -> dict[str, Any]:
    """k-fold cross-validation: fold k runs in ``<run_dir>/fold_<k>`` (its own parameters, history,
    checkpoints and results.json); the run folder gets the mean history over the folds (epochs
    every fold reached), whose objective a search optimizes, and each fold's summary."""
    if benchmark.has_procedure:
        raise CandleError(f"benchmark {benchmark.name} trains in its own run(); it handles n_fold itself")
    run_dir = Path(params["run_dir"])
    write_final_parameters(run_dir, params)
    folds = []
    for fold in range(int(params["n_fold"])):
        fold_params = {**params, "fold": fold, "run_dir": str(run_dir / f"fold_{fold}")}
        fold_results = _run_once(benchmark, fold_params, plugin_manager)
        if fold_results.get("data_parallel", {}).get("rank", 0) != 0:
            continue  # rank 0 writes the summary
        history = json.loads((run_dir / f"fold_{fold}" / HISTORY_JSON).read_text())
        folds.append({"fold": fold, "objective": fold_results["objective"], "history": history})
    if not folds:
        return {"data_parallel": {"rank": -1}}
    context = RunContext(params, run_dir, plugin_manager.hook, writes=True)
    context.restore_history(_mean_history([fold["history"] for fold in folds]))
    summary = [{"fold": fold["fold"], "objective": fold["objective"]} for fold in folds]
    return context.finish({"status": "ok", "folds": summary})


def _mean_history(histories: list[list[dict[str, float]]]) -> list[dict[str, float]]:
    """Epoch by epoch, the mean of every metric the folds all report (epochs all folds reached)."""
    rows = []
    for epoch_rows in zip(*histories, strict=False):
        shared = set(epoch_rows[0]).intersection(*epoch_rows[1:]) - {"epoch"}
        rows.append(
            {
                "epoch": epoch_rows[0]["epoch"],
                **{k: sum(r[k] for r in epoch_rows) / len(epoch_rows) for k in sorted(shared)},
            }
        )
    return rows


def _run_once(benchmark: Benchmark, params: Mapping[str, Any], plugin_manager: pluggy.PluginManager) -> dict[str, Any]:
    from candle_core.data_parallel import open_data_parallel
    from candle_core.device import place

    run_dir = Path(params["run_dir"])
    if benchmark.has_procedure:
        if str(params.get("comm") or "none") != "none":
            raise CandleError(
                f"benchmark {benchmark.name} trains in its own run(); data-parallel training (--comm) "
                "needs a benchmark that gives candle its data and model"
            )
        backend, device, placement, parallel = None, "cpu", None, None
    else:
        backend = plugin_manager.component("backend", params["backend"])()
        device, placement = place(backend, params)
        parallel = open_data_parallel(params, plugin_manager, device)
    writes = parallel is None or parallel.is_root
    hook = plugin_manager.hook
    if writes:
        write_final_parameters(run_dir, params)
        hook.candle_run_start(benchmark=benchmark, params=params, run_dir=run_dir)
    context = RunContext(params, run_dir, hook, total_epochs=params.get("epochs"), writes=writes)
    extra: dict[str, Any] = {}
    try:
        if benchmark.has_procedure:
            benchmark.run(params, context)
        else:
            extra = _train_through_backend(benchmark, backend, device, params, context, plugin_manager, parallel)
            extra["placement"] = placement
    except Exception as exc:
        context.stop(f"failed: {type(exc).__name__}: {exc}")
        context.finish({"status": "failed"})
        raise
    if parallel is not None:
        extra["data_parallel"] = {"ranks": parallel.size, "comm": parallel.communicator.name, "rank": parallel.rank}
    results = context.finish({"status": "ok", **extra})
    if writes:
        hook.candle_run_end(benchmark=benchmark, params=params, run_dir=run_dir, results=results)
    return results


def build_model_spec(benchmark: Benchmark, params: Mapping[str, Any], input_shape: tuple[int, ...], hook: Any):
    """The benchmark's neutral model description (hook ``candle_build_model``)."""
    spec = hook.candle_build_model(benchmark=benchmark, params=params, input_shape=tuple(input_shape))
    if spec is None:
        raise CandleError(f"benchmark {benchmark.name} defines no model (neither run() nor build_model())")
    return spec


def _train_through_backend(
    benchmark: Benchmark,
    backend: Any,
    device: str,
    params: Mapping[str, Any],
    context: RunContext,
    plugin_manager: Any,
    parallel: DataParallel | None,
) -> dict[str, Any]:
    from candle_core.splits import partitioned
    from candle_core.training import fit

    dataset = _load_data(benchmark, params, plugin_manager, parallel)
    if dataset is None:
        raise CandleError(f"benchmark {benchmark.name} provides no data (neither run() nor load_data())")
    dataset = partitioned(dataset, params)
    if params.get("bootstrap_seed") is not None:
        dataset = dataset.resampled(int(params["bootstrap_seed"]))
    spec = build_model_spec(benchmark, params, dataset.input_shape, plugin_manager.hook)
    extra = fit(backend, spec, dataset, params, context, parallel, device)
    meta = dict(dataset.meta)
    if "bootstrap" in meta:
        extra["bootstrap"] = meta.pop("bootstrap")
    extra["data"] = meta  # what the benchmark says of its data: source, shape, ...
    return extra


def _load_data(benchmark: Benchmark, params: Mapping[str, Any], plugin_manager: Any, parallel: DataParallel | None):
    """The benchmark's data set; in a data-parallel run rank 0 fetches and caches it first, the
    other ranks then read the cache (or stop when rank 0 failed)."""

    def load():
        return plugin_manager.hook.candle_load_data(benchmark=benchmark, params=params)

    if parallel is None:
        return load()
    if parallel.is_root:
        try:
            dataset = load()
        except BaseException:
            parallel.same_on_all(1)
            raise
        parallel.same_on_all(0)
        return dataset
    if parallel.same_on_all(0):
        raise CandleError(f"rank {parallel.rank}: rank 0 could not load the data (its error says why)")
    return load()

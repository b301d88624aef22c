"""The run lifecycle: one benchmark run (or its k folds) from resolved parameters to results.json.

These services are the same for every benchmark and backend, so they live here once; what a
run writes and reports to is ``run_context``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from candle_core.benchmark import Benchmark
from candle_core.data_parallel import DataParallel, open_data_parallel
from candle_core.device import place
from candle_core.errors import CandleError, warn_user
from candle_core.keywords import no_effect_warnings
from candle_core.logs import run_logging
from candle_core.run_context import HISTORY_JSON, RunContext, write_final_parameters
from candle_core.splits import partitioned
from candle_core.status import TrialStatus
from candle_core.training import fit

if TYPE_CHECKING:
    from candle_core.plugin_manager import CandlePluginManager

logger = logging.getLogger(__name__)


def run_benchmark(
    benchmark: Benchmark, params: Mapping[str, Any], plugin_manager: CandlePluginManager
) -> dict[str, Any]:
    """Run one benchmark with resolved parameters; return what was written to results.json.

    With ``comm`` set, this is one rank of a data-parallel run (``candle_core.data_parallel``):
    rank 0 writes the run directory and calls the run hooks, the other ranks only train.
    With ``n_fold`` > 1 and no ``fold``, every fold runs in turn (see ``run_folds``).
    ``verbose`` and ``logfile`` set the logging while it runs (``candle_core.logs``).
    """
    for message in no_effect_warnings(params, benchmark.name if benchmark.has_procedure else None):
        warn_user(message)
    with run_logging(params, Path(params["run_dir"])):
        return _run_folds_or_once(benchmark, params, plugin_manager)


def _run_folds_or_once(
    benchmark: Benchmark, params: Mapping[str, Any], plugin_manager: CandlePluginManager
) -> dict[str, Any]:
    if int(params.get("n_fold") or 1) > 1 and params.get("fold") is None:
        return run_folds(benchmark, params, plugin_manager)
    return _run_once(benchmark, params, plugin_manager)


def run_folds(benchmark: Benchmark, params: Mapping[str, Any], plugin_manager: CandlePluginManager) -> dict[str, Any]:
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
    return context.finish({"status": TrialStatus.OK, "folds": summary})


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


def _run_once(benchmark: Benchmark, params: Mapping[str, Any], plugin_manager: CandlePluginManager) -> dict[str, Any]:
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
    logger.info(
        "run %s of %s: backend %s on %s%s",
        run_dir,
        benchmark.name,
        params.get("backend") if backend else "the benchmark's own run()",
        device,
        f", rank {parallel.rank} of {parallel.size}" if parallel else "",
    )
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
        logger.debug("run %s failed", run_dir, exc_info=True)
        context.stop(f"failed: {type(exc).__name__}: {exc}")
        context.finish({"status": TrialStatus.FAILED})
        raise
    if parallel is not None:
        extra["data_parallel"] = {"ranks": parallel.size, "comm": parallel.communicator.name, "rank": parallel.rank}
    results = context.finish({"status": TrialStatus.OK, **extra})
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

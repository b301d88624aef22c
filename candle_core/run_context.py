"""What a run writes and reports to: the run-file names, the final parameters, and ``RunContext``
(per-epoch history, progress bar, CANDLE's ``timeout``, the walltime warning, results.json).

Training procedures (``training.fit``, a benchmark's own ``run``) report here; ``run.py``
creates the context, so neither needs the other.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from candle_core.atomic import write_json_atomic, write_text_atomic
from candle_core.cluster import walltime
from candle_core.objective import Objective
from candle_core.parameters.config_file import format_config
from candle_core.plots import learning_curve
from candle_core.status import TrialStatus
from candle_core.tensorboard import TENSORBOARD_DIR, EventWriter
from candle_core.tensorboard import available as tensorboard_available

logger = logging.getLogger(__name__)

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
    With ``tensorboard`` on, every epoch's metrics also go to ``<run_dir>/tensorboard``.
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
        self._events = _event_writer(params, run_dir) if writes else None

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
        logger.info("epoch %d: %s", epoch, ", ".join(f"{k} {v:.6g}" for k, v in row.items() if k != "epoch"))
        if self._events is not None:
            self._events.scalars(epoch, {k: v for k, v in row.items() if k != "epoch"})
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

    def graph(self, graph_def: Any) -> None:
        """The model's graph (a ``GraphDef``) for TensorBoard's Graphs tab; None: none offered."""
        if self._events is not None and graph_def is not None:
            self._events.graph(graph_def)

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
        objective = Objective(metric)
        summary: dict[str, Any] = {"metric": metric, "mode": "max" if objective.maximize else "min"}
        series, found = objective.series(self.history), objective.best_epoch(self.history)
        if series and found:
            best_epoch, best = found
            summary.update(best=best, best_epoch=best_epoch, last=series[-1][1], last_epoch=series[-1][0])
        return summary

    def finish(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Write results.json and return it."""
        if self._bar is not None:
            self._bar.close()
        if self._events is not None:
            self._events.close()
        wall = self.elapsed
        curve = None
        if self.params.get("plots", True) and self.writes:
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
        if results.get("status") != TrialStatus.FAILED:
            return RESULTS_JSON
        try:
            earlier = json.loads((self.run_dir / RESULTS_JSON).read_text())
        except (OSError, ValueError):
            return RESULTS_JSON
        return (
            FAILED_ATTEMPT_JSON
            if isinstance(earlier, dict) and earlier.get("status") == TrialStatus.OK
            else RESULTS_JSON
        )


def _event_writer(params: Mapping[str, Any], run_dir: Path) -> EventWriter | None:
    if not params.get("tensorboard", True):
        return None
    if not tensorboard_available():
        logger.info("tensorboard is not installed: no event files (pip install tensorboard)")
        return None
    return EventWriter(run_dir / TENSORBOARD_DIR)


def _progress_bar(total: int | None, name: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=str(name), unit="epoch", disable=None, leave=True)

"""Trials: what a search asks for, runs and is told (the contracts of search algorithms and
evaluators are in ``candle_core.contracts``).

A trial is one run of a benchmark with search-assigned parameters (the highest precedence, see
``candle_core.parameters.resolve``), in ``<experiment_dir>/RUN<id>``. The objective is a named
metric of its history, taken at its best epoch (``mode='best'``, default) or its last epoch
(``mode='last'``), minimized unless ``maximize``.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from candle_core.objective import Objective
from candle_core.status import TrialStatus

NODE_LOST = "node lost"  # the error of a trial whose node died under it: run again (--retries), not counted


@dataclass
class Trial:
    """One run of the benchmark with search-assigned parameters; everything after ``params``
    is named (``Trial(3, params, status=TrialStatus.OK, objective=0.1)``)."""

    id: int
    params: dict[str, Any]
    _: KW_ONLY
    status: TrialStatus = TrialStatus.PENDING
    objective: float | None = None
    history: list[dict] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    label: str | None = None  # a name given by the user (UPF "id"); names the run directory
    warm_start: str | None = None  # run directory whose checkpoints this trial continues from
    checkpoint: bool = False  # save a checkpoint at the last epoch


@dataclass
class Proposal:
    """What an algorithm may return instead of a bare parameter dict: a name for the trial
    (its run directory) and a finished trial whose checkpoints it continues from."""

    params: dict[str, Any]
    label: str | None = None
    warm_start: int | None = None  # id of the trial to continue from
    checkpoint: bool = False  # keep a checkpoint of the last epoch, for trials that continue this one


@dataclass(frozen=True)
class TrialTask:
    """Everything a process needs to run a trial."""

    benchmark: str
    argv: tuple[str, ...]
    experiment_id: str
    trial: Trial
    objective: Objective
    node_cache: bool = False  # --model-cache node: state on the node, kept state flushed (node_cache.py)
    keep_loss_below: float | None = None  # the model is kept if its loss ends below (None: kept)

    @property
    def run_id(self) -> str:
        return self.run_id_of(self.trial)

    @staticmethod
    def run_id_of(trial: Trial) -> str:
        if trial.label:
            return "RUN_" + "".join(c if c.isalnum() or c in "-_." else "_" for c in trial.label)
        return f"RUN{trial.id:04d}"

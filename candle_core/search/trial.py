"""Trials and the contracts of search algorithms and evaluators.

A trial is one run of a benchmark with search-assigned parameters (the highest precedence, see
``candle_core.parameters.resolve``), in ``<experiment_dir>/RUN<id>``. The objective is a named
metric of its history, taken at its best epoch (``mode='best'``, default) or its last epoch
(``mode='last'``), minimized unless ``maximize``.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from candle_core.errors import CandleError
from candle_core.parameters.keyword import Bounds, Keyword
from candle_core.search.space import SearchSpace

if TYPE_CHECKING:
    from candle_core.search.execute import TrialTask


NODE_LOST = "node lost"  # the error of a trial whose node died under it: run again (--retries), not counted


@dataclass
class Trial:
    id: int
    params: dict[str, Any]
    status: str = "pending"  # pending, running, ok, failed
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
class Objective:
    metric: str = "val_loss"
    maximize: bool = False
    mode: str = "best"  # best or last epoch

    def of(self, history: Sequence[Mapping[str, float]]) -> float | None:
        values = [row[self.metric] for row in history if self.metric in row and not math.isnan(row[self.metric])]
        if not values:
            return None
        if self.mode == "last":
            return float(values[-1])
        return float(max(values) if self.maximize else min(values))

    def loss(self, value: float) -> float:
        """The value turned into something to minimize."""
        return -value if self.maximize else value

    def better(self, a: float | None, b: float | None) -> bool:
        if a is None:
            return False
        return b is None or self.loss(a) < self.loss(b)


class SearchAlgorithm(abc.ABC):
    """Ask for parameter sets, tell the finished trials. Subclasses keep all their state in what
    they were told, so that a resumed search only needs the finished trials told again."""

    def __init__(
        self,
        space: SearchSpace,
        objective: Objective,
        seed: int,
        budget: int,
        workers: int,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.space, self.objective, self.budget, self.workers = space, objective, budget, workers
        self.options = dict(options or {})
        self.rng = np.random.default_rng(seed)
        self.told: list[Trial] = []

    @abc.abstractmethod
    def ask(self, n: int) -> list[dict[str, Any] | Proposal]:
        """Up to ``n`` new parameter sets (or Proposals); fewer, even none, while waiting for results."""

    def option(self, name: str, default: Any, kind: type, bounds: str | None = None) -> Any:
        """The ``--option name=value`` setting (else ``default``) as ``kind`` within ``bounds``
        (an interval such as ``"[1, inf)"``); a CandleError names the option otherwise."""
        if name not in self.options:
            return default
        keyword = Keyword(name, kind, bounds=None if bounds is None else Bounds.parse(bounds, f"option {name}"))
        try:
            return keyword.coerce(self.options[name], from_text=isinstance(self.options[name], str))
        except ValueError as exc:
            raise CandleError(f"--option {name}={self.options[name]}: expected {exc}") from None

    def tell(self, trial: Trial) -> None:
        self.told.append(trial)

    @property
    def exhausted(self) -> bool:
        """True when the algorithm has nothing more to propose (a finished grid)."""
        return False

    def protected(self) -> set[int]:
        """Ids of finished trials this algorithm may still continue from (kept by the model cache)."""
        return set()

    def scored(self) -> list[tuple[dict[str, Any], float]]:
        """(parameters, loss to minimize) of the successful trials told so far."""
        return [
            (t.params, self.objective.loss(t.objective))
            for t in self.told
            if t.status == "ok" and t.objective is not None
        ]


class Evaluator(abc.ABC):
    """Runs trials somewhere (local processes, MPI ranks, Slurm job steps) and hands them back
    when done."""

    workers: int  # trials at once; the driver reads it before starting trials (it may shrink)

    @abc.abstractmethod
    def submit(self, task: TrialTask) -> None:
        """Start a trial (the driver keeps at most ``workers`` running)."""

    @abc.abstractmethod
    def completed(self, timeout: float | None) -> Iterable[Trial]:
        """Trials that finished (status ok or failed), waiting up to ``timeout`` seconds for one."""

    @abc.abstractmethod
    def shutdown(self) -> None:
        """Stop every running trial and free the workers."""

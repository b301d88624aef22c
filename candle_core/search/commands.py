"""``candle search``, ``candle upf`` and ``candle results``: from command-line options to the driver."""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from candle_core.atomic import write_text_atomic
from candle_core.cluster import walltime
from candle_core.contracts import SearchAlgorithm
from candle_core.errors import CandleError
from candle_core.gpu_slots import GpuRequest
from candle_core.limits import UPF_FILE_LIMIT, read_limited_text
from candle_core.objective import Objective
from candle_core.parameters.literal import LiteralError, parse_literal
from candle_core.parameters.pipeline import resolve_benchmark
from candle_core.plugin_manager import get_plugin_manager
from candle_core.search.driver import SearchSettings, SearchSummary, run_search
from candle_core.search.space import SearchSpace, check_search_values, load_space
from candle_core.search.store import DATABASE, ResultsStore
from candle_core.search.trial import Proposal
from candle_core.status import TrialStatus
from candle_core.table import print_table
from candle_core.uq import ensemble, print_summary


def _options(pairs: Sequence[str]) -> dict[str, Any]:
    options = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise CandleError(f"--option {pair!r}: expected KEY=VALUE")
        try:
            options[key] = parse_literal(text)
        except LiteralError:
            options[key] = text
    return options


def _run(
    args: argparse.Namespace,
    argv: Sequence[str],
    algorithm_class: Callable[..., SearchAlgorithm],
    space: SearchSpace | None,
    space_name: str,
    budget: int,
    options: Mapping[str, Any],
) -> SearchSummary | None:
    """Run the search; None on an MPI worker rank (it served trials; rank 0 reports)."""
    found = resolve_benchmark(args.benchmark, argv, prog="candle search")
    found.warn()
    params = found.values
    if space is not None:
        space.check_keywords(found.registry, found.benchmark.name)
    if args.workers < 1 or budget < 1:
        raise CandleError("--workers and --budget must be at least 1")
    if args.trial_timeout is not None and not args.trial_timeout > 0:
        raise CandleError(f"--trial-timeout {args.trial_timeout:g}: give seconds > 0 (leave it out for no limit)")
    if args.retries < 0:
        raise CandleError(f"--retries {args.retries}: give 0 or more")
    if args.keep_models is not None and args.keep_models < 0:
        raise CandleError(f"--keep-models {args.keep_models}: give 0 or more (leave it out to keep every model)")
    maximize = True if args.maximize else False if args.minimize else None  # None: from the metric's name
    objective = Objective(args.objective, maximize, args.objective_mode)
    seed = params["rng_seed"] if args.seed is None else args.seed
    settings = SearchSettings(
        found.benchmark.name,
        args.algorithm if space is not None else "upf",
        space_name,
        budget,
        args.workers,
        objective,
        seed,
        tuple(argv),
        dict(options),
        args.retries,
        args.model_cache,
        tensorboard=bool(params.get("tensorboard", True)),
    )
    make_evaluator = found.manager.component("evaluator", args.evaluator)()
    placement = {"ranks_per_trial": args.ranks_per_trial} if args.ranks_per_trial != 1 else {}
    gpus = GpuRequest(args.gpus_per_trial, args.trials_per_gpu, tuple(map(str, params.get("gpus") or ())) or None)
    if gpus.explicit or gpus.node_slots():  # evaluators that know nothing of GPUs still work on CPU nodes
        placement["gpus"] = gpus
    evaluator = make_evaluator(args.workers, args.trial_timeout, **placement)
    if getattr(evaluator, "is_worker", False):  # an MPI rank other than 0: run trials until told to stop
        evaluator.serve()
        return None
    settings.workers = evaluator.workers
    algorithm = algorithm_class(space, objective, seed, budget, evaluator.workers, options)
    experiment_dir = Path(params["run_dir"]).parent
    return run_search(
        settings, algorithm, evaluator, params["experiment_id"], experiment_dir, args.resume, args.keep_models
    )


def command_search(args: argparse.Namespace, argv: Sequence[str]) -> int:
    if not args.space:
        raise CandleError("candle search needs --space FILE (a JSON list of parameters)")
    space = load_space(args.space)
    algorithm_class = get_plugin_manager().component("search", args.algorithm)()
    summary = _run(
        args, argv, algorithm_class, space, str(Path(args.space).resolve()), args.budget, _options(args.option)
    )
    return _report(summary, args)


class FixedList(SearchAlgorithm):
    """The parameter sets of a UPF file, in order; on resume, those already run are skipped."""

    def __init__(self, entries: list[tuple[str, dict]], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.entries, self.position = entries, 0

    def ask(self, n: int) -> list[dict[str, Any] | Proposal]:
        done = {t.label for t in self.told}
        proposals: list[dict[str, Any] | Proposal] = []
        while len(proposals) < n and self.position < len(self.entries):
            label, params = self.entries[self.position]
            self.position += 1
            if label not in done:
                proposals.append(Proposal(params, label=label))
        return proposals

    @property
    def exhausted(self) -> bool:
        return self.position >= len(self.entries)


def read_upf(path: str | Path) -> list[tuple[str, dict]]:
    """A UPF file: one JSON object per line, each with an "id"; blank lines and # comments skipped."""
    path = Path(path)
    try:
        lines = read_limited_text(path, UPF_FILE_LIMIT, "UPF file").splitlines()
    except OSError as exc:
        raise CandleError(f"{path}: cannot read: {exc.strerror or exc}") from None
    entries: list[tuple[str, dict]] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CandleError(f"{path}:{number}: not a JSON object: {exc.msg}") from None
        if not isinstance(entry, dict) or "id" not in entry:
            raise CandleError(f'{path}:{number}: each line needs a JSON object with an "id"')
        label = str(entry.pop("id"))
        check_search_values(list(entry), f"{path}:{number}")
        if label in seen:
            raise CandleError(f"{path}:{number}: id {label!r} already used at line {seen[label]}")
        seen[label] = number
        entries.append((label, entry))
    if not entries:
        raise CandleError(f"{path}: no parameter sets")
    return entries


def shard_of(entries: list[tuple[str, dict]], shard: str) -> list[tuple[str, dict]]:
    """The entries ``I, I+N, I+2N, ...`` for ``shard`` "I/N" (a task of a job array)."""
    index, _, count = shard.partition("/")
    if not (index.isdigit() and count.isdigit() and int(index) < int(count)):
        raise CandleError(f"--shard {shard!r}: expected I/N with 0 <= I < N, e.g. 0/4")
    chosen = entries[int(index) :: int(count)]
    if not chosen:
        raise CandleError(f"--shard {shard}: the file has only {len(entries)} parameter sets; use fewer shards")
    return chosen


def command_upf(args: argparse.Namespace, argv: Sequence[str]) -> int:
    entries = read_upf(args.file)
    if args.shard:
        entries = shard_of(entries, args.shard)

    def make(space, objective, seed, budget, workers, options):
        return FixedList(entries, space, objective, seed, budget, workers, options)

    summary = _run(args, argv, make, None, str(Path(args.file).resolve()), len(entries), {})
    return _report(summary, args)


def command_bootstrap(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``candle uq bootstrap BENCH --models N``: N trials of BENCH, trial i trained on the bootstrap
    resample drawn with seed i (run through the search machinery: evaluators, results store,
    resume), then the ensemble's predictions and their report in ``<experiment>/bootstrap``."""

    if args.models < 2:
        raise CandleError(f"--models {args.models}: an ensemble needs at least 2 models")
    entries = [(f"b{i}", {"bootstrap_seed": i}) for i in range(args.models)]

    def make(space, objective, seed, budget, workers, options):
        return FixedList(entries, space, objective, seed, budget, workers, options)

    summary = _run(args, argv, make, None, f"bootstrap ensemble of {args.models}", args.models, {})
    if summary is None:
        return 0
    code = _report(summary, args)
    if code:
        return code
    run_dirs = [Path(t.results["model_dir"]).parent for t in summary.trials if t.status == TrialStatus.OK]
    out = summary.experiment_dir / "bootstrap"
    print_summary(ensemble(args.benchmark, run_dirs, "val", out), out)
    return 0


def _report(summary: SearchSummary | None, args: argparse.Namespace) -> int:
    """Print the outcome; the exit code: 0, or walltime.STOPPED_EXIT_CODE for a search stopped
    before its budget by the batch job's walltime (resumable)."""
    if summary is None:
        return 0
    failed = sum(t.status != TrialStatus.OK for t in summary.trials)
    print(
        f"candle: {len(summary.trials)} trials ({failed} failed, {summary.resumed} from before the resume) "
        f"in {summary.experiment_dir}"
    )
    if summary.best is not None:
        print(
            f"candle: best {args.objective} ({args.objective_mode} epoch) {summary.best.objective:.6g}: "
            f"trial {summary.best.label or summary.best.id} {json.dumps(summary.best.params, default=str)}"
        )
    print(f"candle: results: candle results {summary.experiment_dir}")
    if summary.stopped:
        print(f"candle: stopped before the budget: {summary.stopped}; continue with --resume (a --chain job does)")
        return walltime.STOPPED_EXIT_CODE
    return 0


def command_results(args: argparse.Namespace, argv: Sequence[str]) -> int:
    directory = Path(args.experiment_dir)
    database = directory / DATABASE if directory.is_dir() else directory
    if not database.exists():
        raise CandleError(f"{database}: no search results here (expected {DATABASE} in the experiment directory)")
    store = ResultsStore(database, create=False)
    identity = store.settings().get("identity", {})
    objective = identity.get("objective", {})
    maximize = bool(objective.get("maximize"))
    trials = store.trials()
    ranked = sorted(
        trials,
        key=lambda t: (
            t.status != TrialStatus.OK,
            t.objective is None,
            -(t.objective or 0) if maximize else (t.objective or 0),
        ),
    )
    names = list(dict.fromkeys(name for t in trials for name in t.params))
    header = ["rank", "trial", "status", objective.get("metric", "objective"), "seconds", *names, "error"]
    rows = []
    for rank, t in enumerate(ranked, start=1):
        rows.append(
            [
                rank,
                t.label or t.id,
                t.status,
                "" if t.objective is None else f"{t.objective:.6g}",
                "" if t.seconds is None else f"{t.seconds:.1f}",
                *[t.params.get(n, "") for n in names],
                (t.error or "").splitlines()[0][:80] if t.error else "",
            ]
        )
    if args.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        target = Path(args.csv)
        if not target.parent.is_dir():
            raise CandleError(f"--csv {args.csv}: folder {target.parent} does not exist")
        write_text_atomic(target, buffer.getvalue())
        print(f"candle: wrote {len(rows)} trials to {args.csv}")
        return 0

    print(
        f"# {identity.get('benchmark', '?')} / {identity.get('algorithm', '?')}: {len(trials)} trials, "
        f"{objective.get('metric', '?')} {'maximized' if maximize else 'minimized'} "
        f"({objective.get('mode', 'best')} epoch)"
    )
    print_table(rows, header)
    return 0

"""``candle submit``, ``candle jobs`` and ``candle cancel``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from candle_core.atomic import write_text_atomic
from candle_core.cli_parser import build_parser
from candle_core.cluster import schedulers
from candle_core.cluster.jobs import JobRecord, add_jobs, job_states, read_jobs
from candle_core.cluster.profile import load_profile
from candle_core.cluster.scripts import JOBS_FOLDER, JobSpec, parse_walltime, render
from candle_core.directories import data_root, output_root
from candle_core.errors import CandleError, warn_user
from candle_core.parameters.pipeline import resolve_benchmark
from candle_core.search.store import DATABASE
from candle_core.table import print_table

SUBMITTED_COMMANDS = ("run", "search", "upf", "uq")
TRIAL_COMMANDS = ("search", "upf", "uq")


def split_command(rest: Sequence[str]) -> list[str]:
    """The candle command after ``--`` (a leading ``candle`` is optional)."""
    words = list(rest)
    if words and words[0] == "--":
        words = words[1:]
    if words and Path(words[0]).name == "candle":
        words = words[1:]
    if not words or words[0] not in SUBMITTED_COMMANDS:
        got = f" (got {words[0]!r})" if words else ""
        raise CandleError(
            f"candle submit: give the command after --, one of {', '.join(SUBMITTED_COMMANDS)}{got}; "
            "e.g. candle submit --nodes 2 -- candle search nt3 --space s.json --evaluator mpi"
        )
    return words


def _inner(command: list[str]) -> tuple[argparse.Namespace, list[str], dict]:
    """The wrapped command's parsed options, its keyword flags and the benchmark's parameters."""
    parser, _ = build_parser()
    try:
        args, keywords = parser.parse_known_args(command)
    except SystemExit:
        raise CandleError(f"candle submit: the command 'candle {' '.join(command)}' is not valid (see above)") from None
    found = resolve_benchmark(args.benchmark, keywords, prog="candle submit")
    found.warn()
    params = found.values
    return args, keywords, params


def command_submit(args: argparse.Namespace, rest: Sequence[str]) -> int:
    command = split_command(rest)
    inner, keywords, params = _inner(command)
    profile = load_profile(args.site)
    scheduler = args.scheduler or profile.scheduler
    if scheduler != profile.scheduler:
        profile.scheduler = scheduler
    for name in ("nodes", "ranks_per_node", "chain"):
        if getattr(args, name) < 1:
            raise CandleError(f"--{name.replace('_', '-')} {getattr(args, name)}: give 1 or more")
    if args.gpus_per_node < 0:
        raise CandleError(f"--gpus-per-node {args.gpus_per_node}: give 0 or more")
    if args.array is not None and (inner.command != "upf" or args.array < 1):
        raise CandleError("--array N: only for 'candle upf' (each task runs a shard of the file), with N >= 1")
    experiment_dir = Path(params["run_dir"]).parent
    trials = inner.command in TRIAL_COMMANDS
    if trials and (experiment_dir / DATABASE).exists() and not inner.resume:
        raise CandleError(
            f"{experiment_dir / DATABASE} already holds a search: add --resume to the command to continue it, "
            "or choose another --experiment_id"
        )
    ranks = args.nodes * args.ranks_per_node
    parallel = inner.evaluator == "mpi" if trials else ranks > 1
    if trials and inner.evaluator == "local" and args.nodes > 1:
        warn_user(
            f"--nodes {args.nodes} with the {inner.evaluator} evaluator: trials run on the first node only; "
            "add --evaluator srun (or mpi) to the command to spread them over every node"
        )
    if inner.command == "run" and parallel and str(params.get("comm") or "none") == "none":
        raise CandleError(
            f"candle submit: {ranks} ranks would each train alone (--comm is none); add --comm ring "
            "(or mpi, horovod) to the run for data-parallel training, or ask for 1 node and 1 rank"
        )
    if inner.command == "run" and args.chain > 1:
        if not params.get("ckpt_save_interval"):
            warn_user("--chain with a run that saves no checkpoint (ckpt_save_interval 0): each job starts over")
        if "--ckpt_restart_mode" not in keywords:
            command += ["--ckpt_restart_mode", "auto"]
    spec = JobSpec(
        name=f"candle-{inner.benchmark}-{experiment_dir.name}",
        command=command,
        candle=["candle"] if args.image else [sys.executable, "-m", "candle_core.cli"],
        experiment_dir=experiment_dir,
        workdir=Path.cwd(),
        nodes=args.nodes,
        ranks_per_node=args.ranks_per_node,
        gpus_per_node=args.gpus_per_node,
        seconds=parse_walltime(args.time) if args.time else None,
        partition=args.partition or profile.partition,
        account=args.account or profile.account,
        image=args.image,
        parallel=parallel,
        array=args.array,
        resume=trials and args.chain > 1 and not inner.resume,
        environment={"CANDLE_DATA_DIR": str(data_root()), "CANDLE_OUTPUT_DIR": str(output_root())},
    )
    script = render(spec, profile)
    if args.dry_run:
        print(script, end="")
        return 0
    folder = experiment_dir / JOBS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec.name}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.sh"
    write_text_atomic(path, script)
    path.chmod(0o755)
    records, after = [], None
    for _ in range(args.chain):
        job_id = schedulers.submit(scheduler, path, after)
        records.append(
            JobRecord(job_id, scheduler, str(path), time.strftime("%FT%TZ", time.gmtime()), command, args.array, after)
        )
        after = job_id
    add_jobs(experiment_dir, records)
    ids = ", ".join(r.id for r in records)
    print(f"candle: submitted {'job' if len(records) == 1 else 'jobs'} {ids} ({scheduler}); script {path}")
    print(f"candle: watch: candle jobs {experiment_dir}")
    return 0


def command_jobs(args: argparse.Namespace, rest: Sequence[str]) -> int:
    experiment_dir = Path(args.experiment_dir)
    jobs = read_jobs(experiment_dir)
    if not jobs:
        raise CandleError(f"{experiment_dir}: no jobs recorded here (candle submit records them in {JOBS_FOLDER}/)")
    rows = [
        [name, state, job.submitted, job.after or "", " ".join(job.command)[:60]]
        for name, job, state in job_states(experiment_dir, jobs)
    ]
    print_table(rows, ["job", "state", "submitted", "after", "command"])
    return 0


def command_cancel(args: argparse.Namespace, rest: Sequence[str]) -> int:
    experiment_dir = Path(args.experiment_dir)
    jobs = read_jobs(experiment_dir)
    chosen = [job for job in jobs if not args.job or job.id in args.job]
    unknown = set(args.job or ()) - {job.id for job in jobs}
    if unknown:
        raise CandleError(f"{experiment_dir}: no job {', '.join(sorted(unknown))} recorded here; see candle jobs")
    active = {
        job.id
        for name, job, state in job_states(experiment_dir, chosen)
        if state.split()[0] not in schedulers.FINISHED and not state.startswith("UNKNOWN")
    }
    by_scheduler: dict[str, list[str]] = {}
    for job in chosen:
        if job.id in active:
            by_scheduler.setdefault(job.scheduler, []).append(job.id)
    for scheduler, ids in by_scheduler.items():
        schedulers.cancel(scheduler, ids)
    cancelled = sorted(active)
    print(f"candle: cancelled {', '.join(cancelled)}" if cancelled else "candle: no job of it is queued or running")
    return 0

"""An experiment's record of its batch jobs: ``<experiment>/jobs/jobs.json`` (written atomically),
and their states from the scheduler or, once it has forgotten them, from their exit files."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from candle_core.atomic import write_json_atomic
from candle_core.cluster import schedulers
from candle_core.cluster.scripts import JOBS_FOLDER
from candle_core.cluster.walltime import STOPPED_EXIT_CODE
from candle_core.errors import CandleError

RECORD = "jobs.json"
LOST = "UNKNOWN (no longer queued, no exit recorded: killed before its end?)"


@dataclass
class JobRecord:
    id: str
    scheduler: str
    script: str
    submitted: str
    command: list[str]
    array: int | None = None
    after: str | None = None


def record_path(experiment_dir: Path) -> Path:
    return experiment_dir / JOBS_FOLDER / RECORD


def read_jobs(experiment_dir: Path) -> list[JobRecord]:
    path = record_path(experiment_dir)
    if not path.is_file():
        return []
    try:
        return [JobRecord(**entry) for entry in json.loads(path.read_text())]
    except (ValueError, TypeError) as exc:
        raise CandleError(f"{path}: not a jobs record ({exc}); it is rewritten by candle submit") from None


def add_jobs(experiment_dir: Path, records: list[JobRecord]) -> None:
    jobs = read_jobs(experiment_dir) + records
    write_json_atomic(record_path(experiment_dir), [asdict(job) for job in jobs])


def exit_code(experiment_dir: Path, job_id: str) -> int | None:
    """The exit code the job's script recorded, or None if it has not ended (or never started)."""
    path = experiment_dir / JOBS_FOLDER / f"{job_id}.exit"
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def job_states(experiment_dir: Path, jobs: list[JobRecord]) -> list[tuple[str, JobRecord, str]]:
    """(job or array task id, its record, its state) for every job and array task."""
    rows = []
    by_scheduler: dict[str, list[JobRecord]] = {}
    for job in jobs:
        by_scheduler.setdefault(job.scheduler, []).append(job)
    for scheduler, group in by_scheduler.items():
        known = schedulers.states(scheduler, [job.id for job in group])
        for job in group:
            tasks = [(f"{job.id}_{i}", i) for i in range(job.array)] if job.array else [(job.id, -1)]
            for name, index in tasks:
                state = known.get(name) or _pending_array_state(known, job, index)
                if state is None or state.split()[0] in schedulers.FINISHED:  # the script's record says more
                    state = _settled(experiment_dir, name) or state or LOST
                rows.append((name, job, state))
    return rows


def _pending_array_state(known: dict[str, str], job: JobRecord, index: int) -> str | None:
    """Slurm lists the tasks of an array still pending together, as ``ID_[0-3]`` or
    ``ID_[2,5-7%2]`` (``%`` limits how many run at once)."""
    for key, state in known.items():
        if key.startswith(f"{job.id}_["):
            for part in key[len(job.id) + 2 : -1].split("%")[0].split(","):
                low, _, high = part.partition("-")
                if low.isdigit() and int(low) <= index <= int(high or low):
                    return state
    return None


def _settled(experiment_dir: Path, job_id: str) -> str | None:
    """The state by the exit code the job's script recorded, or None without one."""
    code = exit_code(experiment_dir, job_id)
    if code is None:
        return None
    if code == STOPPED_EXIT_CODE:
        return "STOPPED (walltime; resumable with --resume)"
    return "COMPLETED" if code == 0 else f"FAILED (exit {code})"

"""Batch scripts for Slurm, PBS and LSF, written from one description of the job.

The header (the scheduler's directives) differs by scheduler; the body is shared. The body runs
candle in the background and forwards the job's warning signal (USR1, sent ``warning_seconds``
before the walltime) to it, so that a search stops cleanly before the job is killed. It then
records candle's exit code in ``<experiment>/jobs/<job id>.exit`` (written to a temporary file
and renamed), the job's outcome for ``candle jobs`` even where the scheduler keeps no accounting.
A job of a chain (``--chain``) resumes the search when the experiment already holds one
(``--resume=auto``).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from candle_core.cluster.profile import SiteProfile
from candle_core.errors import CandleError

JOBS_FOLDER = "jobs"
ELASTIC_RESTARTS = 3  # restarts of a Slurm job's ranks on the nodes left after node losses
DEFAULT_LAUNCHERS = {"slurm": "srun --mpi=pmi2", "pbs": "mpiexec", "lsf": "mpirun"}
# the job id and the 0-based array index, as each scheduler tells a running job
JOB_ID = {"slurm": "${SLURM_JOB_ID}", "pbs": "${PBS_JOBID}", "lsf": "${LSB_JOBID}"}
ARRAY_INDEX = {"slurm": "${SLURM_ARRAY_TASK_ID}", "pbs": "${PBS_ARRAY_INDEX}", "lsf": "$((LSB_JOBINDEX - 1))"}
# an array task's id as candle names it: the array's id as submitted, "_", the 0-based index
ARRAY_JOB_ID = {
    "slurm": "${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}",
    "pbs": "${PBS_ARRAY_ID}_${PBS_ARRAY_INDEX}",
    "lsf": "${LSB_JOBID}_$((LSB_JOBINDEX - 1))",
}
CONTAINER_EXEC = {
    "singularity": "singularity exec --nv {image}",
    "apptainer": "apptainer exec --nv {image}",
    "podman": "podman run --rm --device nvidia.com/gpu=all -v {workdir}:{workdir} -w {workdir} {image}",
    "docker": "docker run --rm --gpus all -v {workdir}:{workdir} -w {workdir} {image}",
    "charliecloud": "ch-run -b {workdir} -c {workdir} {image} --",
}


@dataclass
class JobSpec:
    """What one batch job runs and asks for.

    ``command``: candle's words after ``candle`` (``["search", "nt3", ...]``); ``candle``: how the
    job starts candle (an absolute python -m, or ``candle`` inside an image); ``parallel``: start
    ``nodes × ranks_per_node`` ranks with the launcher (an MPI evaluator, data-parallel runs),
    else one process in the batch shell; ``array``: a job array of this many tasks, each with
    ``--shard INDEX/array`` and its own experiment ``<experiment>.INDEX``; ``resume``: the job adds
    ``--resume=auto`` (continue the search if the experiment holds one: a chain's jobs)."""

    name: str
    command: list[str]
    candle: list[str]
    experiment_dir: Path
    workdir: Path
    nodes: int = 1
    ranks_per_node: int = 1
    gpus_per_node: int = 0
    seconds: int | None = None
    partition: str | None = None
    account: str | None = None
    image: str | None = None
    parallel: bool = False
    array: int | None = None
    resume: bool = False
    environment: dict[str, str] = field(default_factory=dict)


def parse_walltime(text: str) -> int:
    """Seconds in ``[D-]HH:MM:SS``, ``MM:SS`` or ``MM`` (Slurm's forms); a CandleError otherwise."""
    match = re.fullmatch(r"(?:(\d+)-)?(?:(\d+):)?(?:(\d+):)?(\d+)", text.strip())
    if not match:
        raise CandleError(f"--time {text!r}: expected HH:MM:SS (or D-HH:MM:SS, MM:SS, MM)")
    days, first, second, last = match.groups()
    parts = [int(p) for p in (first, second, last) if p is not None]
    if len(parts) == 1:  # minutes alone
        seconds = parts[0] * 60
    elif len(parts) == 2:  # MM:SS, or HH:MM after a day
        seconds = parts[0] * 3600 + parts[1] * 60 if days else parts[0] * 60 + parts[1]
    else:
        seconds = parts[0] * 3600 + parts[1] * 60 + parts[2]
    seconds += int(days or 0) * 86400
    if seconds <= 0:
        raise CandleError(f"--time {text!r}: the walltime must be longer than 0")
    return seconds


def hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def render(spec: JobSpec, profile: SiteProfile) -> str:
    """The batch script for ``spec`` at the site ``profile`` describes."""
    return "#!/bin/bash\n" + "\n".join(_header(spec, profile)) + "\n\n" + _body(spec, profile)


def _log(spec: JobSpec, pattern: str) -> str:
    return str(spec.experiment_dir / JOBS_FOLDER / pattern)


# each scheduler's directive prefix and the directives for what a job may leave unset
OPTIONAL_DIRECTIVES = {
    "slurm": ("#SBATCH", "--time={}", "--partition={}", "--account={}", "--array=0-{}"),
    "pbs": ("#PBS", "-l walltime={}", "-q {}", "-A {}", "-J 0-{}"),
    "lsf": ("#BSUB", "-W {}", "-q {}", "-P {}", None),  # an LSF array is part of the job name
}


def _header(spec: JobSpec, profile: SiteProfile) -> list[str]:
    """The scheduler's directives: those every job has, then the optional ones that are set."""
    scheduler = profile.scheduler
    prefix, time_format, partition, account, array = OPTIONAL_DIRECTIVES[scheduler]
    lines = _required(spec, profile)
    if spec.seconds:
        lines.append(time_format.format(_walltime_text(spec.seconds, scheduler)))
    for directive, value in ((partition, spec.partition), (account, spec.account)):
        if value:
            lines.append(directive.format(value))
    if spec.array and array:
        lines.append(array.format(spec.array - 1))
    return [f"{prefix} {line}" for line in lines + profile.directives]


def _walltime_text(seconds: int, scheduler: str) -> str:
    if scheduler == "lsf":  # hours:minutes, rounded up to a minute
        minutes = -(-seconds // 60)
        return f"{minutes // 60}:{minutes % 60:02d}"
    return hms(seconds)


def _required(spec: JobSpec, profile: SiteProfile) -> list[str]:
    """The directives every job of the scheduler gets: name, size, output, warning."""
    warning = warning_seconds(spec, profile)
    if profile.scheduler == "slurm":
        lines = [
            f"--job-name={spec.name}",
            f"--nodes={spec.nodes}",
            f"--ntasks-per-node={spec.ranks_per_node}",
            f"--output={_log(spec, 'slurm-%A_%a.out' if spec.array else 'slurm-%j.out')}",
            f"--signal=B:USR1@{warning}",
            "--no-kill",  # a lost node ends its own trials or ranks, not the job (see evaluators/srun.py)
        ]
        return lines + ([f"--gpus-per-node={spec.gpus_per_node}"] if spec.gpus_per_node else [])
    if profile.scheduler == "pbs":
        select = f"select={spec.nodes}:ncpus={spec.ranks_per_node}:mpiprocs={spec.ranks_per_node}"
        select += f":ngpus={spec.gpus_per_node}" if spec.gpus_per_node else ""
        return [f"-N {spec.name[:15]}", f"-l {select}", f"-o {_log(spec, '')}", "-j oe"]
    name = f"{spec.name}[1-{spec.array}]" if spec.array else spec.name
    lines = [
        f"-J {name}",
        f"-n {spec.nodes * spec.ranks_per_node}",
        f'-R "span[ptile={spec.ranks_per_node}]"',
        f"-o {_log(spec, 'lsf-%J_%I.out' if spec.array else 'lsf-%J.out')}",
    ]
    lines += [f'-gpu "num={spec.gpus_per_node}"'] if spec.gpus_per_node else []
    if spec.seconds:  # LSF's warning action, in minutes before the end
        lines += ["-wa USR1", f"-wt {max(1, warning // 60)}"]
    return lines


def _job_end(spec: JobSpec, scheduler: str) -> list[str]:
    """Shell lines exporting CANDLE_JOB_END (cluster.walltime): Slurm's own end time for the job
    (it rounds walltimes up to minutes, and knows the partition's limit), else the start plus
    the walltime asked for."""
    lines = []
    if scheduler == "slurm":
        lines += [
            'end=$(squeue -h -j "${SLURM_JOB_ID}" -o %e 2>/dev/null)',
            'CANDLE_JOB_END=$(date -d "$end" +%s 2>/dev/null) && export CANDLE_JOB_END',
        ]
    if spec.seconds:
        lines.append(f'[ -n "${{CANDLE_JOB_END:-}}" ] || export CANDLE_JOB_END=$(( $(date +%s) + {spec.seconds} ))')
    return lines


def warning_seconds(spec: JobSpec, profile: SiteProfile) -> int:
    """The profile's warning time, at most a third of a short walltime."""
    return min(profile.warning_seconds, spec.seconds // 3) if spec.seconds else profile.warning_seconds


def _body(spec: JobSpec, profile: SiteProfile) -> str:
    scheduler = profile.scheduler
    quote = shlex.quote
    lines = [f"module load {quote(module)}" for module in profile.modules] + list(profile.setup)
    lines += [f"export {name}={quote(value)}" for name, value in sorted(spec.environment.items())]
    lines += _job_end(spec, scheduler)
    lines.append(f"cd {quote(str(spec.workdir))}")
    jobs = spec.experiment_dir / JOBS_FOLDER
    lines.append(f"mkdir -p {quote(str(jobs))}")
    words = [*spec.candle, *spec.command]
    command = " ".join(quote(w) for w in words)
    if spec.array:
        index = ARRAY_INDEX[scheduler]
        command += f' --shard "{index}/{spec.array}" --experiment_id "{spec.experiment_dir.name}.{index}"'
    if spec.resume:
        command += " --resume=auto"
    if spec.image:
        runtime = CONTAINER_EXEC[profile.container].format(image=quote(spec.image), workdir=quote(str(spec.workdir)))
        command = f"{runtime} {command}"
    launcher = profile.launcher or DEFAULT_LAUNCHERS[scheduler]
    elastic = spec.parallel and scheduler == "slurm"
    if elastic:  # on the nodes still up; after a lost node, continue from where the run or search was
        again = "--ckpt_restart_mode auto" if spec.command[0] == "run" else "--resume=auto"
        ranks = f'"$((count * {spec.ranks_per_node}))"'
        command = f'{launcher} --overlap --kill-on-bad-exit=1 -N "$count" -n {ranks} -w "$nodes" {command} $again'
    elif spec.parallel:
        command = f"{launcher} -n {spec.nodes * spec.ranks_per_node} {command}"
    job_id = ARRAY_JOB_ID[scheduler] if spec.array else JOB_ID[scheduler]
    exit_file = f'{quote(str(jobs))}/"{job_id}".exit'
    lines += [
        'echo "candle job ${HOSTNAME:-?} $(date -u +%FT%TZ): starting"',
        "child=",
        "# the warning signal before the walltime goes on to candle, which stops cleanly",
        'trap \'[ -n "$child" ] && kill -USR1 "$child" 2>/dev/null\' USR1',
    ]
    run = [
        f"{command} &",
        "child=$!",
        'wait "$child"; status=$?',
        'while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done',
    ]
    if elastic:
        lines += [
            'nodes=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | sort -u | paste -sd, -)',
            f"count={spec.nodes}; again=; restarts=0",
            "while :; do",
            *(f"    {line}" for line in run),
            '    case "$status" in 0|75) break ;; esac',
            "    # a lost node (--no-kill keeps the job): restart on the nodes still up, at most 3 times",
            '    up=$(sinfo -h -N -n "$nodes" -t alloc,mix,idle,comp -o %N | sort -u | paste -sd, -)',
            f'    if [ -z "$up" ] || [ "$up" = "$nodes" ] || [ "$restarts" -ge {ELASTIC_RESTARTS} ]; then break; fi',
            '    nodes=$up; count=$(echo "$up" | tr , "\\n" | wc -l); restarts=$((restarts + 1))',
            "    # the old step may linger on the dead node: cancel it (--overlap starts the new one regardless)",
            '    squeue -h -s -j "$SLURM_JOB_ID" -o %i | grep -v -e batch -e extern | xargs -r scancel 2>/dev/null',
            f"    again={quote(again)}",
            '    echo "candle job $(date -u +%FT%TZ): candle exited with $status, node(s) lost; restart on $nodes"',
            "done",
        ]
    else:
        lines += run
    lines += [
        f'echo "$status" > {exit_file}.tmp && mv {exit_file}.tmp {exit_file}',
        'echo "candle job $(date -u +%FT%TZ): candle exited with $status"',
        'exit "$status"',
    ]
    return "\n".join(lines) + "\n"

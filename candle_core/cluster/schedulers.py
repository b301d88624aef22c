"""Talking to the batch system: submit a script, read job states, cancel jobs.

Slurm (sbatch, squeue, sacct, scancel), PBS (qsub, qstat, qdel) and LSF (bsub, bjobs, bkill).
A job the scheduler no longer lists is settled by the exit code its script recorded
(``jobs/<id>.exit``), so ``candle jobs`` works where accounting (sacct) is off.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from candle_core.errors import CandleError

SUBMIT = {"slurm": ["sbatch", "--parsable"], "pbs": ["qsub"], "lsf": ["bsub"]}
CANCEL = {"slurm": ["scancel"], "pbs": ["qdel"], "lsf": ["bkill"]}
SUBMIT_TIMEOUT = 60
FINISHED = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL")


def _run(command: Sequence[str], what: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    if shutil.which(command[0]) is None:
        raise CandleError(f"{what}: {command[0]} not found on PATH (is this a login node of the cluster?)")
    try:
        return subprocess.run(
            list(command), input=stdin, capture_output=True, text=True, timeout=SUBMIT_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise CandleError(f"{what}: {command[0]} did not answer in {SUBMIT_TIMEOUT} s") from None


def submit(scheduler: str, script: Path, after: str | None = None) -> str:
    """Submit ``script``; return the job id. ``after``: a job that must end first (any outcome)."""
    command = list(SUBMIT[scheduler])
    if after:
        command += {
            "slurm": [f"--dependency=afterany:{after}"],
            "pbs": ["-W", f"depend=afterany:{after}"],
            "lsf": ["-w", f"ended({after})"],
        }[scheduler]
    if scheduler == "lsf":  # bsub reads the script on its standard input
        done = _run(command, "candle submit", stdin=script.read_text())
    else:
        done = _run([*command, str(script)], "candle submit")
    if done.returncode != 0:
        raise CandleError(f"candle submit: {command[0]} refused {script}: {done.stderr.strip() or done.stdout.strip()}")
    return parse_job_id(scheduler, done.stdout)


def parse_job_id(scheduler: str, output: str) -> str:
    """The job id in what the submit command printed."""
    text = output.strip()
    if scheduler == "slurm":
        match = re.match(r"(\d+)", text)  # --parsable: "123" or "123;cluster"
    elif scheduler == "pbs":
        match = re.match(r"(\S+)", text)  # "123.server"
    else:
        match = re.search(r"Job <(\d+)>", text)
    if not match:
        raise CandleError(f"candle submit: no job id in the answer {text!r}")
    return match.group(1)


def states(scheduler: str, job_ids: Sequence[str]) -> dict[str, str]:
    """Job id (array tasks as ``ID_INDEX``) → state, for the jobs the scheduler still knows."""
    if not job_ids:
        return {}
    if scheduler == "slurm":
        return _slurm_states(job_ids)
    if scheduler == "pbs":
        done = _run(["qstat", "-x", "-t", *job_ids], "candle jobs")
        names = {"Q": "PENDING", "R": "RUNNING", "E": "EXITING", "F": "FINISHED", "H": "HELD", "X": "FINISHED"}
        found = {}
        wanted = {match.group() for match in (re.match(r"\d+", j) for j in job_ids) if match}
        for line in done.stdout.splitlines():
            words = line.split()
            task = re.fullmatch(r"(\d+)\[(\d+)\](.*)", words[0]) if words else None
            key = f"{task[1]}[]{task[3]}_{task[2]}" if task else (words[0] if words else "")
            number = re.match(r"\d+", key)
            if len(words) >= 5 and number and number.group() in wanted:
                found[key] = names.get(words[4], words[4])
        return found
    done = _run(["bjobs", "-noheader", "-o", "jobid jobindex stat", *job_ids], "candle jobs")
    names = {"PEND": "PENDING", "RUN": "RUNNING", "DONE": "COMPLETED", "EXIT": "FAILED", "PSUSP": "SUSPENDED"}
    found = {}
    for line in done.stdout.splitlines():
        words = line.split()
        if len(words) == 3:
            key = words[0] if words[1] == "0" else f"{words[0]}_{int(words[1]) - 1}"  # LSF counts from 1
            found[key] = names.get(words[2], words[2])
    return found


def _slurm_states(job_ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    wanted = set(job_ids)
    # every job the controller remembers (squeue -j errs on a forgotten id), finished ones included
    queue = _run(["squeue", "-h", "-a", "--states=all", "-o", "%i %T"], "candle jobs")
    for line in queue.stdout.splitlines():
        words = line.split()
        if len(words) == 2 and words[0].split("_")[0] in wanted:
            found[words[0]] = words[1]
    if shutil.which("sacct"):
        accounting = _run(["sacct", "-n", "-P", "-X", "-j", ",".join(job_ids), "-o", "JobID,State"], "candle jobs")
        if accounting.returncode == 0:
            for line in accounting.stdout.splitlines():
                job, _, state = line.partition("|")
                if job and state and job not in found:
                    found[job] = state.split()[0]
    return found


def cancel(scheduler: str, job_ids: Sequence[str]) -> None:
    if not job_ids:
        return
    done = _run([*CANCEL[scheduler], *job_ids], "candle cancel")
    if done.returncode != 0:
        raise CandleError(f"candle cancel: {CANCEL[scheduler][0]} failed: {done.stderr.strip() or done.stdout.strip()}")

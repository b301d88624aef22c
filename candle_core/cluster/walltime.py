"""The end of the batch job's allocation, and its warning signal.

A batch script written by ``candle submit`` exports ``CANDLE_JOB_END`` (Unix seconds: the job's
start plus its walltime, or Slurm's own end time when no walltime was asked for); anyone may set
it by hand. The scheduler's warning before the walltime is SIGUSR1 (Slurm ``--signal=B:USR1@T``,
forwarded by the script; LSF ``-wa USR1``). ``candle run`` and the search driver install
``on_warning`` and read ``warned()``: a run stops after its current epoch with a checkpoint, a
search starts no more trials and stops before the end. Trial processes ignore the signal
(``ignore_warning``): the driver decides for them.
"""

from __future__ import annotations

import os
import signal
import time

END_VARIABLE = "CANDLE_JOB_END"
STOPPED_EXIT_CODE = 75  # EX_TEMPFAIL: stopped before the walltime, resumable
MARGIN_SECONDS = 15.0  # stop this long before the end: closing the store, writing the exit record

_warned_at: float | None = None
_ignored = False


def job_end() -> float | None:
    """The allocation's end (Unix seconds), or None when unknown."""
    text = os.environ.get(END_VARIABLE, "").strip()
    try:
        return float(text) if text else None
    except ValueError:
        return None


def remaining() -> float | None:
    """Seconds left in the allocation, or None."""
    end = job_end()
    return None if end is None else end - time.time()


def _note_warning(signum, frame) -> None:
    global _warned_at
    if _warned_at is None:
        _warned_at = time.time()


def on_warning() -> None:
    """Catch SIGUSR1 (the job's warning) instead of dying by it (where the platform has it)."""
    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, _note_warning)


def ignore_warning() -> None:
    """A trial process: the warning is the driver's, not the trial's."""
    global _warned_at, _ignored
    _warned_at, _ignored = None, True
    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)


def warned() -> bool:
    """Whether the warning signal came (or the allocation ends within MARGIN_SECONDS)."""
    if _ignored:
        return False
    left = remaining()
    return _warned_at is not None or (left is not None and left < MARGIN_SECONDS)

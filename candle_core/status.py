"""The states of a trial (and of a run, in its results.json)."""

from enum import StrEnum


class TrialStatus(StrEnum):
    """Where a trial stands. A run's results.json uses OK and FAILED too. Values are the
    strings stored in results.sqlite, so a status compares equal to its text."""

    PENDING = "pending"
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"

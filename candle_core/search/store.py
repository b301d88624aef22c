"""The results of one experiment in one SQLite file (``<experiment_dir>/results.sqlite``).

Every change is one transaction; the database runs in WAL mode with a busy timeout, so that
several writers (evaluator processes, MPI ranks on a shared file system that supports locking)
and readers (``candle results``) can use it at once. Nothing is kept only in memory: a driver
killed at any moment loses no finished trial, and ``--resume`` starts from what is here.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from candle_core.errors import CandleError

DATABASE = "results.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    params TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
    objective REAL,
    history TEXT,
    results TEXT,
    error TEXT,
    host TEXT,
    rank INTEGER,
    run_dir TEXT,
    started REAL,
    ended REAL,
    label TEXT
);
"""


@dataclass
class TrialRecord:
    id: int
    params: dict[str, Any]
    status: str
    objective: float | None
    history: list[dict]
    results: dict[str, Any]
    error: str | None
    host: str | None
    rank: int | None
    run_dir: str | None
    started: float | None
    ended: float | None
    label: str | None

    @property
    def seconds(self) -> float | None:
        return None if self.started is None or self.ended is None else self.ended - self.started


class ResultsStore:
    """``create=False``: open an existing store only (``candle results``). ``emptied`` tells
    whether the file was there but empty (truncated) when opened: it then holds no search."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise CandleError(f"{self.path}: no results store here (is it a search's experiment folder?)")
        self.emptied = self.path.is_file() and self.path.stat().st_size == 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            if create:
                db.executescript(SCHEMA)
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"settings", "trials"} <= tables:
            raise CandleError(f"{self.path}: an SQLite file, but not a candle results store (no trials table)")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        except sqlite3.Error as exc:
            raise CandleError(f"{self.path}: cannot open the results store ({exc})") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        except sqlite3.DatabaseError as exc:
            raise CandleError(
                f"{self.path}: not a candle results store, or a damaged one ({exc}); nothing was changed. "
                "Restore it from a copy, or start the search under another --experiment_id"
            ) from None
        finally:
            db.close()

    def check(self) -> None:
        """Raise a CandleError when SQLite finds the file damaged (``PRAGMA quick_check``)."""
        with self._connect() as db:
            problems = [row[0] for row in db.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise CandleError(f"{self.path}: the results store is damaged ({problems[0]}); nothing was changed")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # ------------------------------------------------------------------ settings
    def settings(self) -> dict[str, Any]:
        with self._connect() as db:
            return {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM settings")}

    def save_settings(self, values: Mapping[str, Any]) -> None:
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO settings VALUES (?, ?)",
                [(k, json.dumps(v, default=str)) for k, v in values.items()],
            )

    # ------------------------------------------------------------------ trials
    def start_trial(
        self, trial_id: int, params: Mapping[str, Any], run_dir: str, label: str | None = None, rank: int | None = None
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO trials (id, params, status, host, rank, run_dir, started, label) "
                "VALUES (?, ?, 'running', ?, ?, ?, ?, ?)",
                (
                    trial_id,
                    json.dumps(dict(params), default=str),
                    socket.gethostname(),
                    rank,
                    run_dir,
                    time.time(),
                    label,
                ),
            )

    def finish_trial(
        self,
        trial_id: int,
        status: str,
        objective: float | None,
        history: list[dict],
        results: Mapping[str, Any],
        error: str | None,
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE trials SET status=?, objective=?, history=?, results=?, error=?, ended=? WHERE id=?",
                (
                    status,
                    objective,
                    json.dumps(history, default=float),
                    json.dumps(dict(results), default=str),
                    error,
                    time.time(),
                    trial_id,
                ),
            )

    def discard_unfinished(self) -> int:
        """Forget trials left 'running' by a driver that died; return how many."""
        with self._transaction() as db:
            return db.execute("DELETE FROM trials WHERE status = 'running'").rowcount

    def trials(self, status: str | None = None) -> list[TrialRecord]:
        query = "SELECT * FROM trials" + (" WHERE status = ?" if status else "") + " ORDER BY id"
        with self._connect() as db:
            rows = db.execute(query, (status,) if status else ()).fetchall()
        return [
            TrialRecord(
                row[0],
                json.loads(row[1]),
                row[2],
                row[3],
                json.loads(row[4] or "[]"),
                json.loads(row[5] or "{}"),
                row[6],
                row[7],
                row[8],
                row[9],
                row[10],
                row[11],
                row[12],
            )
            for row in rows
        ]

    def next_id(self) -> int:
        with self._connect() as db:
            (last,) = db.execute("SELECT COALESCE(MAX(id), -1) FROM trials").fetchone()
        return last + 1

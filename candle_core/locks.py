"""One lock discipline for files several processes may touch at once.

* ``file_lock(path)``: an exclusive ``flock`` on ``.<name>.lock`` beside ``path`` for short critical sections on one
  node (a download into the data cache, an image export). The kernel drops it when its holder
  dies, so a crash never leaves it held.
* ``Lease``: who drives an experiment, across nodes of a shared file system. A lease file made
  with ``O_CREAT | O_EXCL`` (atomic on local disks and NFS alike) names its holder (host, pid)
  and is touched every ``heartbeat`` seconds; a second driver (or a ``--resume``) is refused
  while it is fresh. A lease is stale — and taken over, with a warning — when its holder's
  process is gone (same host) or it has not been touched for ``stale_after`` seconds (another
  host, whose processes this one cannot see).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from candle_core.errors import CandleError, warn_user

HEARTBEAT_SECONDS = 10.0
STALE_AFTER_SECONDS = 120.0


@contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock tied to ``path`` (on ``.<name>.lock`` beside it) for the ``with`` block."""
    path = Path(path)
    lock_path = path.with_name(f".{path.name}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Lease:
    """The right to drive one experiment; see the module docstring."""

    def __init__(
        self, path: str | Path, heartbeat: float = HEARTBEAT_SECONDS, stale_after: float = STALE_AFTER_SECONDS
    ) -> None:
        self.path = Path(path)
        self.heartbeat, self.stale_after = heartbeat, stale_after
        self.holder = {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> None:
        """Take the lease, or raise a CandleError naming its live holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):  # a stale lease removed by someone else between the checks: try again
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._take_over_if_stale()
                continue
            with os.fdopen(descriptor, "w") as handle:
                json.dump(self.holder, handle)
            self._thread = threading.Thread(target=self._beat, name="candle-lease", daemon=True)
            self._thread.start()
            return
        raise CandleError(f"{self.path}: could not take the experiment's lease; try again")

    def _take_over_if_stale(self) -> None:
        try:
            holder = json.loads(self.path.read_text() or "{}")
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            holder, age = {}, self.stale_after + 1  # unreadable: judged by its age alone
            age = time.time() - self.path.stat().st_mtime if self.path.exists() else age
        same_host = holder.get("host") == socket.gethostname()
        gone = same_host and isinstance(holder.get("pid"), int) and not _alive(holder["pid"])
        if not gone and age <= self.stale_after:
            where = f"process {holder.get('pid')} on {holder.get('host')}" if holder else "another process"
            raise CandleError(
                f"{self.path.parent}: this experiment is being driven by {where} (lease {self.path.name}, "
                f"touched {age:.0f} s ago); wait for it to end or stop it, then --resume"
            )
        reason = "its process is gone" if gone else f"it was last touched {age:.0f} s ago"
        warn_user(f"{self.path}: taking over a stale lease of {holder.get('host')}:{holder.get('pid')} ({reason})")
        self.path.unlink(missing_ok=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            try:
                os.utime(self.path)
            except OSError:
                return

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            if json.loads(self.path.read_text()).get("pid") == self.holder["pid"]:
                self.path.unlink()
        except (OSError, ValueError):
            pass

    def __enter__(self) -> Lease:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

"""Checkpoints with CANDLE's ``ckpt_*`` keywords, written atomically, verified when read.

Layout under ``ckpt_directory`` (default ``<run_dir>/ckpts``)::

    epoch_0005/      every ckpt_save_interval epochs (after ckpt_skip_epochs), pruned by
                     ckpt_keep_mode (linear: the newest ckpt_keep_limit; exponential: ever
                     sparser with age, at most one per power-of-two span, up to ckpt_keep_limit)
    best/            whenever ckpt_save_best_metric improves (ckpt_save_best)
    latest.json      names the checkpoint written last: the one a restart resumes from

Each checkpoint folder holds the backend's files and ``meta.json`` (epoch, training-loop
state, history so far, and sha256 of every file when ``ckpt_checksum`` is on). A folder is
written under a temporary name and renamed into place, so a crash never leaves a half one.
Restart (``ckpt_restart_mode``): off, auto (resume if a checkpoint exists), required. A damaged
checkpoint is skipped with a warning and the newest intact one is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from candle_core.atomic import write_json_atomic
from candle_core.contracts import Backend
from candle_core.errors import CandleError, warn_user
from candle_core.objective import Objective

META = "meta.json"
LATEST = "latest.json"


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _epoch_of(folder: Path) -> int:
    """The epoch a checkpoint folder holds (from its meta.json; -1 when unreadable)."""
    try:
        return int(json.loads((folder / META).read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return -1


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_latest(source: Path, target: Path) -> int:
    """Make ``target`` hold only the latest checkpoint of the checkpoint folder ``source`` and
    the file naming it (what a restart reads); nothing when ``source`` has none. Bytes copied."""
    latest = source / LATEST
    if not latest.exists():
        return 0
    name = json.loads(latest.read_text())["checkpoint"]
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copytree(source / name, target / name)
    shutil.copy2(latest, target / LATEST)
    return sum(path.stat().st_size for path in target.rglob("*") if path.is_file())


def checkpoint_directory(params: Mapping[str, Any], run_dir: str | Path) -> Path:
    """``ckpt_directory`` when given, else ``<run_dir>/ckpts``."""
    return Path(params.get("ckpt_directory") or Path(run_dir) / "ckpts")


class Checkpoints:
    def __init__(self, params: Mapping[str, Any], run_dir: Path) -> None:
        self.directory = checkpoint_directory(params, run_dir)
        self.restart_mode = params.get("ckpt_restart_mode", "off")
        self.interval = int(params.get("ckpt_save_interval") or 0)
        self.skip = int(params.get("ckpt_skip_epochs") or 0)
        self.save_best = bool(params.get("ckpt_save_best"))
        self.best_metric = params.get("ckpt_save_best_metric") or "val_loss"
        self.keep_mode = params.get("ckpt_keep_mode", "linear")
        self.keep_limit = int(params.get("ckpt_keep_limit") or 1_000_000)
        self.checksum = bool(params.get("ckpt_checksum"))
        self.weights_only = bool(params.get("ckpt_save_weights_only"))
        self.best_value: float | None = None

    # ------------------------------------------------------------------ restart
    def restore(self, backend: Backend, model: Any) -> dict[str, Any] | None:
        """Load the newest intact checkpoint as ``ckpt_restart_mode`` says; return its meta or None.

        The one ``latest.json`` names comes first, then the others, newest first. A damaged one
        (unreadable meta, checksum mismatch, files the backend cannot load) is passed over with a
        warning naming it, so a run resumes from the newest checkpoint that is whole."""
        if self.restart_mode == "off":
            return None
        candidates = self._candidates()
        for folder in candidates:
            meta = self._intact(backend, model, folder)
            if meta is not None:
                if folder != candidates[0]:
                    warn_user(f"resuming from {folder.name} (epoch {meta.get('epoch')}), the newest intact checkpoint")
                self.best_value = meta.get("best_value")
                return meta
        if candidates:
            message = f"{self.directory}: no intact checkpoint among {', '.join(f.name for f in candidates)}"
            if self.restart_mode == "required":
                raise CandleError(message + "; ckpt_restart_mode is 'required'")
            warn_user(message + "; starting from epoch 1")
            return None
        if self.restart_mode == "required":
            raise CandleError(f"ckpt_restart_mode is 'required' but {self.directory} holds no checkpoint")
        return None

    def _candidates(self) -> list[Path]:
        """Checkpoint folders, the one latest.json names first, then by epoch, newest first."""
        if not self.directory.is_dir():
            return []
        found = [p for p in self.directory.iterdir() if p.is_dir() and not p.name.startswith(".")]
        epochs = {p: _epoch_of(p) for p in found}
        ordered = sorted(found, key=lambda p: epochs[p], reverse=True)
        try:
            named = self.directory / json.loads((self.directory / LATEST).read_text())["checkpoint"]
        except (OSError, ValueError, KeyError, TypeError):
            named = None
        if named in ordered:
            ordered.remove(named)
            ordered.insert(0, named)
        return ordered

    def _intact(self, backend: Backend, model: Any, folder: Path) -> dict[str, Any] | None:
        """Load ``folder`` into ``model`` and return its meta, or warn and return None if damaged."""
        try:
            meta = json.loads((folder / META).read_text())
            if not isinstance(meta, dict) or not isinstance(meta.get("epoch"), int):
                raise ValueError("no epoch in meta.json")
        except (OSError, ValueError) as exc:
            warn_user(f"{folder}: damaged checkpoint, skipped ({META}: {exc})")
            return None
        written_by = meta.get("backend", backend.name)
        if written_by != backend.name:
            raise CandleError(
                f"{folder}: this checkpoint was written by the {written_by} backend, this run uses {backend.name}; "
                f"give the run another --run_id, or set ckpt_restart_mode off to start afresh"
            )
        for name, expected in meta.get("checksums", {}).items():
            actual = _sha256(folder / name) if (folder / name).is_file() else "missing"
            if actual != expected:
                warn_user(
                    f"{folder / name}: damaged checkpoint, skipped (sha256 {actual[:12]}, expected {expected[:12]})"
                )
                return None
        try:
            backend.load(model, folder)
        except Exception as exc:  # whatever a framework raises on a half-written file
            warn_user(f"{folder}: damaged checkpoint, skipped (cannot be loaded: {type(exc).__name__}: {exc})"[:400])
            return None
        return meta

    # ------------------------------------------------------------------ saving
    def save(
        self,
        backend: Backend,
        model: Any,
        epoch: int,
        logs: Mapping[str, float],
        meta: Mapping[str, Any],
        always: bool = False,
    ) -> None:
        """Write the checkpoints due after ``epoch`` (``always``: a periodic one whatever the
        interval, as before a walltime)."""
        if epoch <= self.skip:
            return
        value = logs.get(self.best_metric)
        is_best = self.save_best and value is not None and Objective(self.best_metric).better(value, self.best_value)
        if is_best:
            self.best_value = value
        periodic = always or (self.interval > 0 and epoch % self.interval == 0)
        if not (periodic or is_best):
            return
        meta = {**meta, "epoch": epoch, "logs": dict(logs), "best_value": self.best_value, "backend": backend.name}
        latest = None
        if periodic:
            latest = self._write(f"epoch_{epoch:04d}", backend, model, meta)
            self._prune()
        if is_best:
            if latest is not None:  # the same state: copy the files rather than serialize twice
                self._replace(self._copy_from(latest, "best"), "best")
            else:
                latest = self._write("best", backend, model, meta)
        write_json_atomic(self.directory / LATEST, {"checkpoint": latest, "epoch": epoch})

    def _write(self, name: str, backend: Backend, model: Any, meta: Mapping[str, Any]) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f".{name}.partial"
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir()
        backend.save(model, temporary, include_optimizer=not self.weights_only)
        meta = dict(meta)
        if self.checksum:
            meta["checksums"] = {p.name: _sha256(p) for p in sorted(temporary.iterdir())}
        (temporary / META).write_text(json.dumps(meta, indent=1, default=float))
        self._replace(temporary, name)
        return name

    def _copy_from(self, source: str, name: str) -> Path:
        temporary = self.directory / f".{name}.partial"
        shutil.rmtree(temporary, ignore_errors=True)
        shutil.copytree(self.directory / source, temporary)
        return temporary

    def _replace(self, temporary: Path, name: str) -> None:
        for path in temporary.iterdir():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        target, old = self.directory / name, self.directory / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        temporary.rename(target)
        _fsync_directory(self.directory)
        shutil.rmtree(old, ignore_errors=True)

    def _prune(self) -> None:
        epochs = sorted(int(p.name.split("_")[1]) for p in self.directory.glob("epoch_*"))
        if not epochs:
            return
        newest = epochs[-1]
        if self.keep_mode == "exponential":
            # an epoch d epochs older than the newest stays if it is a multiple of the largest
            # power of two <= d: the older, the sparser; once dropped, never wanted again
            newest_first = [
                e for e in reversed(epochs) if e == newest or e % (1 << ((newest - e).bit_length() - 1)) == 0
            ]
        else:
            newest_first = list(reversed(epochs))
        keep = set(newest_first[: self.keep_limit])
        for epoch in epochs:
            if epoch not in keep:
                shutil.rmtree(self.directory / f"epoch_{epoch:04d}", ignore_errors=True)

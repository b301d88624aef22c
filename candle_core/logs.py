"""CANDLE's ``verbose`` and ``logfile`` through Python logging.

Every module logs to its own logger (``logging.getLogger(__name__)``), all under ``candle_core``
and ``candle_plugins``. A run attaches handlers for its duration: standard error shows warnings,
or everything from INFO up with ``verbose``; ``logfile`` (relative paths are taken from the run
directory) receives DEBUG and up, with time, process and module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOGGERS = ("candle_core", "candle_plugins", "candle_benchmarks")
CONSOLE_FORMAT = "candle: %(levelname)s: %(message)s"
FILE_FORMAT = "%(asctime)s %(process)d %(name)s %(levelname)s: %(message)s"


def log_file(params: Mapping[str, Any], run_dir: Path) -> Path | None:
    """Where ``logfile`` points (None: no log file); a relative name lies in the run directory."""
    name = params.get("logfile")
    if not name:
        return None
    path = Path(str(name)).expanduser()
    return path if path.is_absolute() else run_dir / path


@contextmanager
def run_logging(params: Mapping[str, Any], run_dir: Path) -> Iterator[Path | None]:
    """Attach the run's handlers (console, and the log file when asked) while the block runs;
    yields the log file's path."""
    console = logging.StreamHandler()
    console.setLevel(logging.INFO if params.get("verbose") else logging.WARNING)
    console.setFormatter(logging.Formatter(CONSOLE_FORMAT))
    handlers: list[logging.Handler] = [console]
    path = log_file(params, run_dir)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(path, encoding="utf-8")
        to_file.setLevel(logging.DEBUG)
        to_file.setFormatter(logging.Formatter(FILE_FORMAT))
        handlers.append(to_file)
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG if path is not None else console.level)
        for handler in handlers:
            logger.addHandler(handler)
    try:
        yield path
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
            for handler in handlers:
                logger.removeHandler(handler)
        for handler in handlers:
            handler.close()

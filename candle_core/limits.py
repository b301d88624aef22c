"""Documented limits on what candle reads, so that a wrong or hostile file is a clear error
instead of hours of work or all the memory (README, "Failure behaviour").

| what | limit |
|---|---|
| model file (``*_default_model.txt``, ``--config_file``) | 4 MiB, 10,000 keys |
| search space file | 4 MiB |
| UPF file | 64 MiB |
| archive unpacked by ``fetch`` | 100,000 members; unpacked size at most 100x the archive and 1 TiB |
| a value quoted in an error message | its first 80 characters |
"""

from __future__ import annotations

from pathlib import Path

from candle_core.errors import CandleError

MODEL_FILE_LIMIT = 4 << 20
MODEL_FILE_KEYS = 10_000
SPACE_FILE_LIMIT = 4 << 20
UPF_FILE_LIMIT = 64 << 20
ARCHIVE_MEMBERS = 100_000
ARCHIVE_RATIO = 100
ARCHIVE_BYTES = 1 << 40
SHOWN_CHARACTERS = 80


def shorten(text: str, limit: int = SHOWN_CHARACTERS) -> str:
    """``text`` cut to ``limit`` characters for a message, saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"


def read_limited_text(path: str | Path, limit: int, what: str) -> str:
    """The UTF-8 text of ``path``; a CandleError when it is larger than ``limit`` bytes or is not
    text (a binary file). OSError passes through for the caller to word."""
    path = Path(path)
    size = path.stat().st_size
    if size > limit:
        raise CandleError(f"{path}: {size:,} bytes is too large for a {what} (limit {limit:,} bytes)")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CandleError(f"{path}: not a text file (byte {exc.start} is not UTF-8); is this the {what}?") from None

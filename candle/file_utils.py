"""candle_lib's ``get_file`` and ``validate_file`` on candle's cache (``candle_core.data.fetch``):
locked, atomic downloads, verified checksums, safe unpacking."""

from __future__ import annotations

import hashlib
from pathlib import Path

from candle_core import directories
from candle_core.data.fetch import fetch

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")


def get_file(
    fname: str,
    origin: str,
    unpack: bool = False,
    md5_hash: str | None = None,
    cache_subdir: str | None = "common",
    datadir: str | None = None,
) -> str:
    """Download ``origin`` as ``fname`` into ``datadir`` (default ``$CANDLE_DATA_DIR``, itself
    ``~/.candle`` when unset) under ``cache_subdir``, unless a verified copy is there; return its
    path. Archives (.tar.gz, .tgz, .zip) are unpacked, as in CANDLE, and the folder is returned.

    Scripts that pass ``datadir=params["data_dir"], cache_subdir=None`` get the benchmark's data
    folder, ``$CANDLE_DATA_DIR/<model_name>/Data``, the one ``candle run`` uses."""
    folder = Path(datadir).expanduser() if datadir else directories.data_root()
    if cache_subdir:
        folder = folder / cache_subdir
    unpack = unpack or fname.endswith(ARCHIVE_SUFFIXES)
    return str(fetch(origin, folder, filename=fname, md5=md5_hash, unpack=unpack))


def validate_file(fpath: str, md5_hash: str) -> bool:
    """Whether the file's md5 is ``md5_hash``."""
    with open(fpath, "rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest() == str(md5_hash).lower()

"""Fetching data files over http(s), ftp or file URLs into the cache, safely.

* The download streams into ``<name>.part`` beside the target and is renamed into place only
  when complete (length as announced) and its md5/sha256 matches: a half or wrong file is
  never taken for the real one, and nothing of a failed download is left in the cache.
* Archives (tar, tar.gz, zip) unpack into a temporary folder renamed into place; a member
  that would land outside it (absolute path, ``..``, links out) is refused.
* When the network cannot be reached, the error names the URL and suggests ``--data synthetic``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from candle_core.errors import CandleError

CHUNK = 1 << 20
TIMEOUT_SECONDS = 60


class Unreachable(CandleError):
    """The server could not be reached at all (offline, no such host, refused, timed out)."""


def _check_digest(path: Path, md5: str | None, sha256: str | None) -> None:
    for algorithm, expected in (("md5", md5), ("sha256", sha256)):
        if expected:
            with path.open("rb") as handle:
                actual = hashlib.file_digest(handle, algorithm).hexdigest()
            if actual.lower() != expected.lower():
                raise CandleError(f"{path.name}: {algorithm} is {actual}, expected {expected}; the file was not kept")


def fetch(
    url: str,
    cache_dir: str | Path,
    filename: str | None = None,
    md5: str | None = None,
    sha256: str | None = None,
    unpack: bool = False,
) -> Path:
    """Return the cached file for ``url`` (downloading it if needed); with ``unpack``, the folder
    the archive unpacked into."""
    cache_dir = Path(cache_dir)
    name = filename or Path(urllib.parse.urlparse(url).path).name
    if not name:
        raise CandleError(f"{url}: cannot tell a file name from this URL; give one")
    target = cache_dir / name
    if not target.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        _download(url, target, md5, sha256)
    if unpack:
        return _unpack(target)
    return target


def _download(url: str, target: Path, md5: str | None, sha256: str | None) -> None:
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response, partial.open("wb") as out:
            expected = response.headers.get("Content-Length")
            received = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                received += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if expected is not None and received != int(expected):
            raise CandleError(f"{url}: download truncated: received {received} of {expected} bytes; try again")
        _check_digest(partial, md5, sha256)
        os.replace(partial, target)
    except http.client.IncompleteRead as exc:
        raise CandleError(
            f"{url}: download truncated: received {len(exc.partial)} more bytes, {exc.expected} missing; try again"
        ) from None
    except urllib.error.HTTPError as exc:
        raise CandleError(f"{url}: HTTP {exc.code} {exc.reason}; check data_url and the file name") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(
            f"{url}: cannot download ({reason}); offline? run with --data synthetic, or copy the file to {target}"
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise CandleError(f"{url}: download failed: {type(exc).__name__}: {exc}; try again") from None
    finally:
        partial.unlink(missing_ok=True)


def _archive_root(archive: Path) -> Path:
    name = archive.name
    for suffix in (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip"):
        if name.endswith(suffix):
            return archive.with_name(name[: -len(suffix)])
    raise CandleError(f"{archive}: not an archive candle can unpack (tar, tar.gz, tgz, zip)")


def _unpack(archive: Path) -> Path:
    destination = _archive_root(archive)
    if destination.exists():
        return destination
    temporary = destination.with_name(destination.name + ".unpacking")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir()
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as bundle:
                root = temporary.resolve()
                for member in bundle.namelist():
                    if not (root / member).resolve().is_relative_to(root):
                        raise CandleError(f"{archive}: member {member!r} would be written outside the folder; refused")
                bundle.extractall(temporary)
        else:
            with tarfile.open(archive) as bundle:
                bundle.extractall(temporary, filter="data")
        temporary.rename(destination)
    except tarfile.FilterError as exc:
        raise CandleError(f"{archive}: unsafe member refused ({exc}); the archive was not unpacked") from None
    except (tarfile.TarError, zipfile.BadZipFile) as exc:
        raise CandleError(f"{archive}: damaged archive ({exc}); delete it to download again") from None
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return destination

"""Fetching data files over http(s), ftp or file URLs into the cache, safely.

* One download per file at a time: a process holds ``.<name>.lock`` (``candle_core.locks``) while
  it downloads, and the others wait, then find the file there (a 2-worker search on a cold cache
  downloads once). The download streams into a uniquely named temporary file beside the target
  and is renamed into place only when complete (length as announced) and its md5/sha256
  matches: a half or wrong file is never taken for the real one, and nothing of a failed
  download is left in the cache.
* A cached file with a known checksum is verified when used (the verification is remembered in
  ``.<name>.verified`` for that size and modification time); a damaged one is moved aside to
  ``<name>.damaged`` and downloaded again.
* Archives (tar, tar.gz, zip) unpack into a temporary folder renamed into place, ``<name>``
  beside ``<name>.tar.gz`` (an archive of one folder ``<name>/`` gives that folder, as CANDLE's
  ``get_file`` does); a member that would land outside it (absolute path, ``..``, links out) is
  refused.
* When the network cannot be reached, the error names the URL and suggests ``--data synthetic``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from candle_core.atomic import temporary_beside, write_json_atomic
from candle_core.errors import CandleError, warn_user
from candle_core.limits import ARCHIVE_BYTES, ARCHIVE_MEMBERS, ARCHIVE_RATIO
from candle_core.locks import file_lock

CHUNK = 1 << 20
TIMEOUT_SECONDS = 60


class Unreachable(CandleError):
    """The server could not be reached at all (offline, no such host, refused, timed out)."""


def _digest_error(path: Path, md5: str | None, sha256: str | None) -> str | None:
    """Why ``path``'s content does not match the checksums given (None: it matches)."""
    for algorithm, expected in (("md5", md5), ("sha256", sha256)):
        if expected:
            with path.open("rb") as handle:
                actual = hashlib.file_digest(handle, algorithm).hexdigest()
            if actual.lower() != expected.lower():
                return f"{algorithm} is {actual}, expected {expected}"
    return None


def _check_digest(path: Path, md5: str | None, sha256: str | None, shown: str) -> None:
    problem = _digest_error(path, md5, sha256)
    if problem:
        raise CandleError(f"{shown}: {problem}; the file was not kept")


def _record(path: Path) -> Path:
    return path.with_name(f".{path.name}.verified")


def _usable(target: Path, md5: str | None, sha256: str | None) -> bool:
    """Whether the cached ``target`` can be used: present and, when checksums are known, matching
    them (verified once per size and modification time)."""
    try:
        status = target.stat()
    except FileNotFoundError:
        return False
    if not (md5 or sha256):
        return True
    stamp = {"size": status.st_size, "mtime_ns": status.st_mtime_ns, "md5": md5, "sha256": sha256}
    try:
        if json.loads(_record(target).read_text()) == stamp:
            return True
    except (OSError, ValueError):
        pass
    problem = _digest_error(target, md5, sha256)
    if problem:
        kept = target.with_name(target.name + ".damaged")
        warn_user(f"{target}: the cached file is damaged ({problem}); kept as {kept.name}, downloading it again")
        os.replace(target, kept)
        return False
    write_json_atomic(_record(target), stamp)
    return True


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
    cache_dir.mkdir(parents=True, exist_ok=True)
    if not _usable(target, md5, sha256):
        with file_lock(target):
            if not _usable(target, md5, sha256):  # another process may have fetched it meanwhile
                _download(url, target, md5, sha256)
                if md5 or sha256:
                    _usable(target, md5, sha256)  # remember the verification
    if unpack:
        with file_lock(_archive_root(target)):
            return _unpack(target)
    return target


def _download(url: str, target: Path, md5: str | None, sha256: str | None) -> None:
    descriptor, name = temporary_beside(target)
    partial = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            expected = response.headers.get("Content-Length")
            if expected is None and not (md5 or sha256) and url.startswith(("http:", "https:")):
                warn_user(f"{url}: the server gives no length and no checksum is known: an early end cannot be told")
            received = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                received += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if expected is not None and received != int(expected):
            raise CandleError(f"{url}: download truncated: received {received} of {expected} bytes; try again")
        _check_digest(partial, md5, sha256, target.name)
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


def _check_size(archive: Path, members: int, unpacked: int) -> None:
    """Refuse an archive beyond the limits of ``candle_core.limits`` (an archive bomb)."""
    ceiling = min(ARCHIVE_RATIO * archive.stat().st_size, ARCHIVE_BYTES)
    if members > ARCHIVE_MEMBERS:
        raise CandleError(f"{archive}: {members:,} members, more than the limit of {ARCHIVE_MEMBERS:,}; not unpacked")
    if unpacked > ceiling:
        raise CandleError(
            f"{archive}: would unpack to {unpacked:,} bytes, more than {ARCHIVE_RATIO}x its size "
            f"({ceiling:,} bytes); not unpacked (unpack it yourself into {_archive_root(archive)} if you trust it)"
        )


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
                members = bundle.infolist()
                _check_size(archive, len(members), sum(m.file_size for m in members))
                for member in bundle.namelist():
                    if not (root / member).resolve().is_relative_to(root):
                        raise CandleError(f"{archive}: member {member!r} would be written outside the folder; refused")
                bundle.extractall(temporary)
        else:
            with tarfile.open(archive) as bundle:
                entries = bundle.getmembers()
                _check_size(archive, len(entries), sum(m.size for m in entries if m.isfile()))
                bundle.extractall(temporary, filter="data")
        inside = list(temporary.iterdir())
        if len(inside) == 1 and inside[0].is_dir() and inside[0].name == destination.name:
            inside[0].rename(destination)  # the archive holds one folder of its own name: CANDLE's layout
        else:
            temporary.rename(destination)
    except tarfile.FilterError as exc:
        raise CandleError(f"{archive}: unsafe member refused ({exc}); the archive was not unpacked") from None
    except (tarfile.TarError, zipfile.BadZipFile) as exc:
        raise CandleError(f"{archive}: damaged archive ({exc}); delete it to download again") from None
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return destination

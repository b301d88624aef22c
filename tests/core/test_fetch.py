"""Fetching against a real HTTP server on 127.0.0.1: every failure leaves the cache clean."""

import hashlib
import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from helpers import serving, tar_gz

from candle_core import CandleError
from candle_core.data.fetch import fetch

GOOD = b"0,1.5,2.5\n1,3.5,4.5\n" * 1000


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


FILES = {
    "/data/good.csv": GOOD,
    "/data/bundle.tar.gz": tar_gz({"bundle/a.csv": GOOD, "bundle/b.csv": b"1,2\n"}),
    "/data/evil.tar.gz": tar_gz({"ok.csv": b"1\n", "../escaped.csv": b"pwned\n"}),
    "/data/evil.zip": _zip({"ok.csv": b"1\n", "../../escaped.csv": b"pwned\n"}),
}


@pytest.fixture(scope="module")
def server():
    files = {**FILES, "/data/truncated.csv": GOOD}
    with serving(files, truncated=frozenset({"/data/truncated.csv"})) as (base, _):
        yield base + "data/"


def leftovers(folder):
    """Files in the cache, candle's own bookkeeping (locks, verification records) left out."""
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.rglob("*") if not p.name.endswith((".lock", ".verified")))


def test_good_checksum_downloads_once(tmp_path):
    sha = hashlib.sha256(GOOD).hexdigest()
    md5 = hashlib.md5(GOOD).hexdigest()
    with serving({"/data/good.csv": GOOD}) as (base, requests):
        path = fetch(base + "data/good.csv", tmp_path, sha256=sha, md5=md5)
        assert path.read_bytes() == GOOD
        assert fetch(base + "data/good.csv", tmp_path, sha256=sha) == path  # cached: no second request
    assert requests == ["/data/good.csv"]
    assert leftovers(tmp_path) == ["good.csv"]


def test_bad_checksum_keeps_nothing(server, tmp_path):
    with pytest.raises(CandleError) as info:
        fetch(server + "good.csv", tmp_path, sha256="0" * 64)
    assert "sha256" in str(info.value) and "not kept" in str(info.value)
    assert leftovers(tmp_path) == []


def test_404_names_the_url(server, tmp_path):
    with pytest.raises(CandleError) as info:
        fetch(server + "missing.csv", tmp_path)
    assert "HTTP 404" in str(info.value) and server + "missing.csv" in str(info.value)
    assert leftovers(tmp_path) == []


def test_truncated_body_is_not_taken(server, tmp_path):
    with pytest.raises(CandleError) as info:
        fetch(server + "truncated.csv", tmp_path)
    assert "truncated" in str(info.value)
    assert leftovers(tmp_path) == []


def test_unreachable_host_suggests_synthetic(tmp_path):
    with pytest.raises(CandleError) as info:
        fetch("http://127.0.0.1:9/nt_train2.csv", tmp_path)  # the discard port: nothing listens
    message = str(info.value)
    assert "http://127.0.0.1:9/nt_train2.csv" in message and "--data synthetic" in message
    assert leftovers(tmp_path) == []


def test_tar_unpacks_into_place(server, tmp_path):
    folder = fetch(server + "bundle.tar.gz", tmp_path, unpack=True)
    assert folder == tmp_path / "bundle"  # the archive's one folder bundle/ is the unpacked folder (CANDLE's layout)
    assert (folder / "a.csv").read_bytes() == GOOD
    assert not any(p.name.endswith(".unpacking") for p in tmp_path.iterdir())


@pytest.mark.parametrize("name", ["evil.tar.gz", "evil.zip"])
def test_archive_path_escape_is_refused(server, tmp_path, name):
    cache = tmp_path / "cache"
    with pytest.raises(CandleError) as info:
        fetch(server + name, cache, unpack=True)
    assert "refused" in str(info.value)
    assert not (tmp_path / "escaped.csv").exists() and not (cache.parent.parent / "escaped.csv").exists()
    assert leftovers(cache) == [name]  # the archive stays cached; nothing was unpacked


def test_file_urls(tmp_path):
    source = tmp_path / "src.csv"
    source.write_bytes(GOOD)
    assert fetch(source.as_uri(), tmp_path / "cache").read_bytes() == GOOD


def test_eight_processes_fetching_one_url_download_it_once(tmp_path):
    """What a search with several workers on a cold cache does: one download, identical files."""
    body = np.random.default_rng(0).bytes(4 << 20)
    sha = hashlib.sha256(body).hexdigest()
    script = (
        "import sys, hashlib; from candle_core.data.fetch import fetch; "
        "p = fetch(sys.argv[1], sys.argv[2], sha256=sys.argv[3]); "
        "print(hashlib.sha256(p.read_bytes()).hexdigest())"
    )
    with serving({"/big.bin": body}, slow=frozenset({"/big.bin"})) as (base, requests):
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", script, base + "big.bin", str(tmp_path), sha], stdout=subprocess.PIPE
            )
            for _ in range(8)
        ]
        digests = [worker.communicate(timeout=300)[0].decode().strip() for worker in workers]
    assert [w.returncode for w in workers] == [0] * 8
    assert digests == [sha] * 8 and requests == ["/big.bin"]
    assert leftovers(tmp_path) == ["big.bin"]


def test_a_damaged_cached_file_is_downloaded_again(tmp_path):
    sha = hashlib.sha256(GOOD).hexdigest()
    with serving({"/data/good.csv": GOOD}) as (base, requests):
        path = fetch(base + "data/good.csv", tmp_path, sha256=sha)
        damaged = bytearray(GOOD)
        damaged[100:110] = b"\0" * 10
        path.write_bytes(bytes(damaged))
        assert fetch(base + "data/good.csv", tmp_path, sha256=sha).read_bytes() == GOOD
        assert fetch(base + "data/good.csv", tmp_path, sha256=sha).read_bytes() == GOOD  # verified: no request
    assert requests == ["/data/good.csv"] * 2
    assert (tmp_path / "good.csv.damaged").read_bytes() == bytes(damaged)  # kept for a look, never used


def test_an_archive_bomb_is_not_unpacked(tmp_path):
    bomb = tar_gz({"bomb/zeros.csv": b"0" * (20 << 20)})  # 20 MiB of zeros in a few KiB
    with serving({"/data/bomb.tar.gz": bomb}) as (base, _):
        with pytest.raises(CandleError, match="more than 100x its size"):
            fetch(base + "data/bomb.tar.gz", tmp_path, unpack=True)
    assert not (tmp_path / "bomb").exists() and leftovers(tmp_path) == ["bomb.tar.gz"]


def test_a_download_without_length_or_checksum_is_flagged(tmp_path, capsys):
    with serving({"/good.csv": GOOD}, no_length=frozenset({"/good.csv"})) as (base, _):
        path = fetch(base + "good.csv", tmp_path)
    assert path.read_bytes() == GOOD and "an early end cannot be told" in capsys.readouterr().err

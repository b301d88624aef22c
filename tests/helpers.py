"""Running benchmarks in-process, the way `candle run` does, for tests that need many runs."""

from __future__ import annotations

import http.server
import io
import json
import re
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from candle_core.parameters.pipeline import resolve_benchmark
from candle_core.plugin_manager import get_plugin_manager
from candle_core.run import run_benchmark

REPO = Path(__file__).resolve().parents[1]
HANG_SECONDS = 900  # a wait this long means "it hung": never a speed requirement
SHARED_MODELS = REPO.parent / "shared" / "candle-models"
BRANIN_SPACE = [
    {"name": "x1", "type": "float", "lower": -5, "upper": 10},
    {"name": "x2", "type": "float", "lower": 0, "upper": 15},
]
SMALL_NT3 = ["--data", "synthetic", "--feature_subsample", "300", "--optimizer", "adam", "-lr", "0.0003"]


def check_timeout_decision(stop_reason: str, limit: float) -> None:
    """The timeout stopped the run by its own rule: the elapsed time and the next epoch's estimate
    it recorded would have ended past ``limit`` (no bound on how fast the machine is)."""
    pattern = r"timeout: ([\d.]+) s elapsed and the next epoch \(~([\d.]+) s\) would end after the (\S+) s limit"
    match = re.fullmatch(pattern, stop_reason)
    assert match, stop_reason
    elapsed, next_epoch, stated = (float(g) for g in match.groups())
    assert stated == limit and elapsed + next_epoch >= limit - 0.1  # the message rounds to 0.1 s


def tar_gz(members: dict[str, bytes]) -> bytes:
    """A .tar.gz archive of ``members`` (name -> bytes), in memory."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def resolve(bench: str, argv: list[str]) -> dict:
    return resolve_benchmark(bench, argv, prog="test").values


def nt3_defaults() -> dict:
    """NT3's parameters from its default model file (the reference network)."""
    return resolve("nt3", [])


def run(bench: str, argv: list[str]) -> tuple[dict, list[dict]]:
    """Run in this process; return (results.json, history.json)."""
    manager = get_plugin_manager()
    params = resolve(bench, argv)
    results = run_benchmark(manager.benchmark(bench), params, manager)
    history = json.loads((Path(params["run_dir"]) / "history.json").read_text())
    return results, history


@contextmanager
def serving(
    files: dict[str, bytes],
    truncated: frozenset[str] = frozenset(),
    slow: frozenset[str] = frozenset(),
    no_length: frozenset[str] = frozenset(),
) -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 serving ``files`` (path -> bytes, read at each request);
    yields (base URL, the paths requested so far). A path in ``truncated`` announces its whole
    length and then sends only a third of the body; one in ``slow`` is sent in 64 KiB pieces,
    10 ms apart (so that concurrent clients overlap); one in ``no_length`` is sent without a
    Content-Length, ended by closing the connection."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            requests.append(self.path)
            body = files.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            if self.path in no_length:
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path in slow:
                for start in range(0, len(body), 1 << 16):
                    self.wfile.write(body[start : start + (1 << 16)])
                    time.sleep(0.01)
                return
            self.wfile.write(body[: len(body) // 3] if self.path in truncated else body)
            if self.path in truncated:
                self.wfile.flush()
                self.close_connection = True

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", requests
    finally:
        httpd.shutdown()


def testfn_experiment(candle_dirs: Path, name: str) -> Path:
    """The folder of a testfn experiment (search) by its id."""
    return candle_dirs / "testfn" / "Output" / name


def wait_until(condition, what: str, timeout: float = HANG_SECONDS, poll: float = 0.2) -> None:
    """Poll ``condition()`` until true; fail saying ``what`` did not happen (it hung)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout:g} s (hung?)"
        time.sleep(poll)


def submitted_job_ids(result) -> list[str]:
    """The job ids ``candle submit`` printed (it must have succeeded)."""
    assert result.code == 0, result.err
    match = re.search(r"submitted jobs? ([\d, ]+) \(", result.out)
    assert match, result.out
    return [job.strip() for job in match.group(1).split(",")]

"""Shared fixtures: an isolated CANDLE_DATA_DIR, the `candle` command run as users run it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import pytest


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def missing_modules(item) -> list[str]:
    """The optional packages a test needs and this install lacks: those its ``needs`` markers
    name, and keras for a test parametrized with the keras backend."""
    wanted = [module for marker in item.iter_markers("needs") for module in marker.args]
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "keras" in callspec.params.values():
        wanted.append("keras")
    return [module for module in dict.fromkeys(wanted) if find_spec(module) is None]


def pytest_collection_modifyitems(config, items):
    """Skip what a partial install cannot run (naming the missing packages), and slow tests
    unless --runslow."""
    slow = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        missing = missing_modules(item)
        if missing:
            item.add_marker(pytest.mark.skip(reason=f"not installed: {', '.join(missing)}"))
        elif "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(slow)


@pytest.fixture(autouse=True)
def candle_dirs(tmp_path, monkeypatch):
    """Every test gets its own CANDLE_DATA_DIR and no CANDLE_OUTPUT_DIR."""
    data = tmp_path / "candle_data"
    monkeypatch.setenv("CANDLE_DATA_DIR", str(data))
    monkeypatch.delenv("CANDLE_OUTPUT_DIR", raising=False)
    return data


@pytest.fixture
def file_server():
    """A real HTTP server on 127.0.0.1; yields (base URL, files), files a dict path -> bytes to fill."""
    from helpers import serving

    files: dict[str, bytes] = {}
    with serving(files) as (base, _):
        yield base, files


@dataclass
class Completed:
    code: int
    out: str
    err: str


@pytest.fixture
def candle(tmp_path):
    """Run the installed `candle` command in a subprocess, as a user would."""

    def run(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 120) -> Completed:
        full_env = {**os.environ, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "candle_core.cli", *args],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=cwd or tmp_path,
            timeout=timeout,
        )
        return Completed(proc.returncode, proc.stdout, proc.stderr)

    return run

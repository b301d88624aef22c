"""A rank that dies or hangs makes the others fail in bounded time, under real mpiexec."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from candle_core.launch import find_mpiexec

MPIEXEC = find_mpiexec()
CHECKS = Path(__file__).with_name("dead_peer_checks.py")


@pytest.mark.skipif(MPIEXEC is None, reason="mpiexec is not installed (pip install 'candle[mpi]')")
@pytest.mark.parametrize("comm", ["ring", "mpi"])
@pytest.mark.parametrize("mode", ["die", "hang"])
def test_peer_failure_ends_the_job_in_bounded_time(comm, mode):
    started = time.monotonic()
    result = subprocess.run(
        [MPIEXEC, "-n", "3", sys.executable, str(CHECKS), comm, "3", mode], capture_output=True, text=True, timeout=120
    )
    seconds = time.monotonic() - started
    assert result.returncode != 0 and "finished" not in result.stdout
    assert seconds < 30, seconds
    if mode == "die":  # the launcher sees the death and ends the job, saying why
        assert "signal 9" in result.stdout + result.stderr
    else:  # only the waiting ranks can see a hang: they fail with a clear message after the timeout
        # (the first to exit makes the launcher kill the rest, sometimes before they print)
        lost = [line for line in result.stdout.splitlines() if line.startswith("lost ")]
        assert lost and all("got no answer from its peers within 3 s" in line for line in lost), result.stdout
        assert all(3.0 <= float(line.split()[2]) < 10 for line in lost)

"""The ring allreduce under real mpiexec (2 and 3 ranks), compared with MPI_Allreduce."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent))
CHECKS = Path(__file__).with_name("allreduce_checks.py")


@pytest.mark.skipif(MPIEXEC is None, reason="mpiexec is not installed (pip install 'candle[mpi]')")
@pytest.mark.parametrize("ranks", [2, 3])
def test_ring_matches_mpi_allreduce(ranks):
    result = subprocess.run(
        [MPIEXEC, "-n", str(ranks), sys.executable, str(CHECKS)], capture_output=True, text=True, timeout=300
    )
    lines = [line.split(" ", 1)[1] for line in result.stdout.splitlines()]
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert sum(line.startswith("ok ") for line in lines) == 11 * ranks, result.stdout
    mismatch = [line for line in lines if line.startswith("ok mismatch")]
    assert len(mismatch) == ranks and len(set(mismatch)) == 1  # the same message on every rank
    assert "different buffers" in mismatch[0] and "rank 0: 1 buffers, 10 elements" in mismatch[0]

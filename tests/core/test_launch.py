"""launch(): MPI_Comm_launch-style sub-jobs under real mpiexec (MPICH from pip)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from candle_core.launch import child_environment, find_mpiexec, launcher_command, slots

MPIEXEC = find_mpiexec()
CHECKS = Path(__file__).with_name("launch_checks.py")


def test_child_environment_drops_the_parent_job_identity():
    parent = {
        "PMI_RANK": "1",
        "PMI_FD": "7",
        "HYDI_CONTROL_FD": "9",
        "OMPI_COMM_WORLD_RANK": "1",
        "OMPI_MCA_btl": "self,tcp",
        "OMPI_MCA_ess_base_jobid": "5",
        "SLURM_PROCID": "3",
        "SLURM_JOB_ID": "42",
        "PATH": "/bin",
        "MPIR_CVAR_CH4_NETMOD": "ofi",
    }
    assert child_environment(parent) == {
        "OMPI_MCA_btl": "self,tcp",
        "SLURM_JOB_ID": "42",
        "PATH": "/bin",
        "MPIR_CVAR_CH4_NETMOD": "ofi",
    }


def test_launcher_commands_place_one_process_per_parent_rank(monkeypatch):
    hosts = ["n1", "n1", "n2", "n1"]
    assert slots(hosts) == [("n1", 3), ("n2", 1)]
    monkeypatch.delenv("CANDLE_SRUN_MPI", raising=False)
    monkeypatch.delenv("SLURM_MPI_TYPE", raising=False)
    assert launcher_command(["x"], hosts, "srun") == [
        "srun",
        "--overlap",
        "--ntasks=4",
        "--nodelist=n1,n1,n2,n1",  # arbitrary distribution: the node of each task, in order
        "--distribution=arbitrary",
        "--mpi=pmi2",
        "--kill-on-bad-exit=1",  # a rank that dies ends the step: the others do not wait for it
        "x",
    ]
    monkeypatch.setenv("SLURM_MPI_TYPE", "pmix")  # the parent step's PMI
    assert "--mpi=pmix" in launcher_command(["x"], hosts, "srun")
    monkeypatch.setenv("CANDLE_SRUN_MPI", "cray_shasta")  # the user's choice wins
    assert "--mpi=cray_shasta" in launcher_command(["x"], hosts, "srun")
    if MPIEXEC:
        assert launcher_command(["x"], hosts, "hydra")[1:] == ["-n", "4", "-hosts", "n1:3,n2:1", "x"]
        assert launcher_command(["x"], hosts, "openmpi")[1:5] == ["-n", "4", "--host", "n1:3,n2:1"]


@pytest.mark.skipif(MPIEXEC is None, reason="mpiexec is not installed (pip install 'candle[mpi]')")
def test_launch_under_mpiexec(tmp_path):
    result = subprocess.run(
        [MPIEXEC, "-n", "4", sys.executable, str(CHECKS), str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    found: dict[str, list] = {}
    for line in result.stdout.splitlines():
        rank, ok, name, value = line.split(" ", 3)
        found.setdefault(name, []).append(json.loads(value))
    # every parent rank gets the child's exit code; a signal comes back negative
    assert found["exit0"] == [0] * 4 and found["exit3"] == [3] * 4 and found["exit-9"] == [-9] * 4
    assert "Killed (signal 9)" in (tmp_path / "exit-9.log").read_text()
    # each child is a 2-process job of its own
    assert found["size"] == [0] * 4
    for group in (0, 1):
        lines = sorted((tmp_path / f"size{group}.log").read_text().split())
        assert lines == sorted("child 0 2 child 1 2".split())
    # the two groups ran at once, and the waiting parents slept
    spans = [[json.loads(line) for line in (tmp_path / f"group{g}.log").read_text().splitlines()] for g in (0, 1)]
    assert all(len(s) == 2 for s in spans)
    starts, ends = [min(a for a, _ in s) for s in spans], [max(b for _, b in s) for s in spans]
    assert max(starts) < min(ends), spans  # overlapping
    assert found["concurrent"] == [0] * 4
    assert max(found["parent_cpu"]) < 0.5, found["parent_cpu"]
    assert all(timed_out and seconds < 20 for timed_out, seconds in found["timeout"]), found["timeout"]

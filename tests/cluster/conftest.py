"""Fixtures of the cluster tests: a real Slurm of three virtual nodes (candle_core.cluster.
local_slurm), started once per session and stopped at its end. Skips with the reason when Slurm
is missing (tests/install_system_packages.sh installs it) or when not root."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from helpers import BRANIN_SPACE

from candle_core.cluster.local_slurm import daemon_logs, missing_commands, start_cluster, stop_cluster


@pytest.fixture
def space(tmp_path):
    """The Branin function's space (testfn), as a file."""
    path = tmp_path / "space.json"
    path.write_text(json.dumps([*BRANIN_SPACE, {"name": "function", "type": "constant", "value": "branin"}]))
    return path


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    """The running three-node cluster (SlurmCluster); its env holds SLURM_CONF for the clients."""
    missing = missing_commands()
    if missing:
        pytest.skip(f"Slurm is not installed ({', '.join(missing)} missing): bash tests/install_system_packages.sh")
    if os.geteuid() != 0:
        pytest.skip("the test cluster's daemons run as root; run these tests as root")
    root = Path(tmp_path_factory.mktemp("slurm"))
    try:
        cluster = start_cluster(root)
    except (subprocess.CalledProcessError, RuntimeError) as exc:
        stop_cluster(root)
        pytest.fail(f"the test Slurm cluster did not start: {exc}\n{daemon_logs(root, 30)}")
    yield cluster
    cluster.command("scancel", "--full", "-u", "root")
    stop_cluster(root)

"""A real search to look at, shared by the report and TensorBoard tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPORT_SPACE = [
    {"name": "x1", "type": "float", "lower": -5, "upper": 10},
    {"name": "x2", "type": "float", "lower": 0, "upper": 15},
    {"name": "optimizer", "type": "categorical", "element_type": "string", "values": ["sgd", "adam"]},
    {"name": "fail_epoch", "type": "int", "lower": 2, "upper": 12},  # with --fail raise: epochs 2..4 fail
]
SEARCH_TRIALS = 12


@pytest.fixture(scope="session")
def testfn_search(tmp_path_factory) -> Path:
    """The experiment folder of a random search of testfn: 12 trials of 4 epochs, those whose
    fail_epoch comes within the 4 epochs failing on purpose."""
    tmp = tmp_path_factory.mktemp("testfn_search")
    space = tmp / "space.json"
    space.write_text(json.dumps(REPORT_SPACE))
    env = {**os.environ, "CANDLE_DATA_DIR": str(tmp / "data"), "CANDLE_OUTPUT_DIR": str(tmp / "out")}
    command = [sys.executable, "-m", "candle_core.cli", "search", "testfn", "--algorithm", "random"]
    command += ["--space", str(space), "--budget", str(SEARCH_TRIALS), "--workers", "2", "-e", "4"]
    command += ["--fail", "raise", "--experiment_id", "R"]
    searched = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert searched.returncode == 0, searched.stderr
    return next((tmp / "out").glob("testfn/**/R"))

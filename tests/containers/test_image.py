"""Build the torch image from the checked-in recipe with a real runtime and train NT3 inside it.

Slow (a few minutes: a Debian base by debootstrap when missing, apt and pip inside the build);
run with: python -m pytest --runslow tests/containers/test_image.py
Needs podman (apt-get install podman debootstrap; as root), and the CPU torch wheel in pip's
find-links folder (the build installs torch from it instead of PyPI's multi-GB CUDA build).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from candle_containers.cli import wheel_folder
from candle_core.launch import find_mpiexec

BASE = "localhost/candle-base:bookworm"
IMAGE = "localhost/candle-torch-test"
ROOT = Path(__file__).parents[2]
RUN = ["run", "nt3", "--data", "synthetic", "--feature_subsample", "300", "-e", "2"]

pytestmark = pytest.mark.slow


def _candle(*args, env=None, prefix=()):
    command = [*prefix, sys.executable, "-m", "candle_core.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=1800, env=env)


def _history(folder: Path) -> list[dict]:
    return json.loads(next(folder.glob("*/*/history.json")).read_text())


@pytest.fixture(scope="module")
def image():
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (apt-get install podman debootstrap)")
    wheels = wheel_folder("torch")
    if wheels is None:
        pytest.skip("no local CPU torch wheel in pip's find-links (the image would pull a multi-GB CUDA build)")
    if subprocess.run(["podman", "image", "exists", BASE]).returncode != 0:
        subprocess.run(["bash", str(ROOT / "recipes" / "make_base.sh"), "podman"], check=True, timeout=900)
    built = _candle(
        "container",
        "build",
        "--backend",
        "torch",
        "--runtime",
        "podman",
        "--base",
        BASE,
        "--wheels",
        str(wheels),
        "--tag",
        IMAGE,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return IMAGE


def _runs(image: str, tmp_path: Path, flags: list[str], prefix: tuple = ()) -> tuple[list[dict], list[dict]]:
    """Histories of the same run inside ``image`` and on the host. The container sees the data
    root, where an absolute --output_dir must lie (or be given to exec with --bind)."""
    env = {**os.environ, "CANDLE_DATA_DIR": str(tmp_path / "data")}
    inside_dir, outside_dir = tmp_path / "data" / "in", tmp_path / "out"
    exec_run = ["container", "exec", image, "--", "candle", *flags, "--output_dir", str(inside_dir)]
    for args in (exec_run, [*flags, "--output_dir", str(outside_dir)]):
        done = _candle(*args, env=env, prefix=prefix)
        assert done.returncode == 0, done.stderr[-3000:]
    return _history(inside_dir), _history(outside_dir)


def test_nt3_inside_the_image_equals_nt3_outside(image, tmp_path):
    inside, outside = _runs(image, tmp_path, RUN)
    for key in ("loss", "val_loss", "val_accuracy"):
        np.testing.assert_allclose([r[key] for r in inside], [r[key] for r in outside], rtol=1e-6)


def test_hybrid_mpi_one_container_per_rank(image, tmp_path):
    mpiexec = find_mpiexec()
    if mpiexec is None:
        pytest.skip("mpiexec is not installed (pip install 'candle[mpi]')")
    inside, outside = _runs(image, tmp_path, [*RUN, "--comm", "ring"], prefix=(mpiexec, "-n", "2"))
    np.testing.assert_allclose([r["val_loss"] for r in inside], [r["val_loss"] for r in outside], rtol=1e-6)

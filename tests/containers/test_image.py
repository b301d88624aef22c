"""Build the torch image from the checked-in recipe with a real runtime and train NT3 inside it.

Slow (a few minutes: a Debian base by debootstrap when missing, apt and pip inside the build);
run with: python -m pytest --runslow tests/containers/test_image.py
Needs podman and/or charliecloud (apt-get install podman charliecloud-builders debootstrap; as
root; each runtime found is tested), and the CPU torch wheel in pip's
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

PODMAN_BASE = "localhost/candle-base:bookworm"
CHARLIECLOUD_BASE = "candle-base:bookworm"
IMAGE = "localhost/candle-torch-test"
ROOT = Path(__file__).parents[2]
RUN = ["run", "nt3", "--data", "synthetic", "--feature_subsample", "300", "-e", "2"]

pytestmark = pytest.mark.slow


def _candle(*args, env=None, prefix=()):
    command = [*prefix, sys.executable, "-m", "candle_core.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=1800, env=env)


def _history(folder: Path) -> list[dict]:
    return json.loads(next(folder.glob("*/*/history.json")).read_text())


@pytest.fixture(scope="module", params=["podman", "charliecloud"])
def image(request):
    runtime = request.param
    if shutil.which("podman" if runtime == "podman" else "ch-image") is None:
        pytest.skip(f"{runtime} is not installed (apt-get install podman charliecloud-builders debootstrap)")
    wheels = wheel_folder("torch")
    if wheels is None:
        pytest.skip("no local CPU torch wheel in pip's find-links (the image would pull a multi-GB CUDA build)")
    base = PODMAN_BASE if runtime == "podman" else CHARLIECLOUD_BASE
    if not _has_base(runtime):
        subprocess.run(["bash", str(ROOT / "recipes" / "make_base.sh"), runtime], check=True, timeout=900)
    tag = IMAGE if runtime == "podman" else IMAGE.removeprefix("localhost/")
    built = _candle(
        "container",
        "build",
        "--backend",
        "torch",
        "--runtime",
        runtime,
        "--base",
        base,
        "--wheels",
        str(wheels),
        "--tag",
        tag,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return tag, runtime


def _has_base(runtime: str) -> bool:
    if runtime == "podman":
        return subprocess.run(["podman", "image", "exists", PODMAN_BASE]).returncode == 0
    from candle_containers.runtimes import Charliecloud

    listed = subprocess.run(
        ["/usr/bin/python3", shutil.which("ch-image"), "list"],
        capture_output=True,
        text=True,
        env=Charliecloud().environment(),
    )
    return CHARLIECLOUD_BASE in listed.stdout.split()


def _runs(image: tuple[str, str], tmp_path: Path, flags: list[str], prefix: tuple = ()) -> tuple[list, list]:
    """Histories of the same run inside ``image`` and on the host. The container sees the data
    root, where an absolute --output_dir must lie (or be given to exec with --bind)."""
    env = {**os.environ, "CANDLE_DATA_DIR": str(tmp_path / "data")}
    inside_dir, outside_dir = tmp_path / "data" / "in", tmp_path / "out"
    tag, runtime = image
    exec_run = ["container", "exec", tag, "--runtime", runtime, "--", "candle", *flags, "--output_dir", str(inside_dir)]
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
    if image[1] == "charliecloud":
        pytest.skip("known problem: two ch-run ranks spin in MPI without progress (podman's hybrid run works)")
    inside, outside = _runs(image, tmp_path, [*RUN, "--comm", "ring"], prefix=(mpiexec, "-n", "2"))
    np.testing.assert_allclose([r["val_loss"] for r in inside], [r["val_loss"] for r in outside], rtol=1e-6)

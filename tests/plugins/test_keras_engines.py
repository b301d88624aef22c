"""The Keras backend on Keras 3's three engines: TensorFlow, torch and JAX (KERAS_BACKEND).

Each engine runs in its own process (Keras picks its engine once, at import). An engine whose
framework is not installed here is skipped; CI has TensorFlow and torch.
"""

import json
import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from candle_core.launch import find_mpiexec

MPIEXEC_PATH = find_mpiexec()
EXACT = ["--data", "synthetic", "--feature_subsample", "300", "--optimizer", "sgd", "-lr", "0.01", "--dropout", "0"]


def _train(engine: str, output: Path, extra: list[str] = (), launcher: list[str] = ()) -> list[dict]:
    command = [
        *launcher,
        sys.executable,
        "-m",
        "candle_core.cli",
        "run",
        "nt3",
        "--backend",
        "keras",
        *EXACT,
        "-e",
        "2",
    ]
    done = subprocess.run(
        [*command, *extra, "--output_dir", str(output)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "KERAS_BACKEND": engine},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(next(output.glob("*/*/results.json")).read_text())
    assert results["backend"] == "keras"
    return json.loads(next(output.glob("*/*/history.json")).read_text())


@pytest.mark.parametrize("engine", ["torch", "jax"])
@pytest.mark.needs("keras")
def test_every_engine_takes_the_tensorflow_engines_steps(engine, tmp_path):
    if find_spec(engine) is None:
        pytest.skip(f"{engine} is not installed here")
    reference = _train("tensorflow", tmp_path / "tensorflow")
    other = _train(engine, tmp_path / engine)
    for key in ("loss", "val_loss"):
        assert [round(r[key], 4) for r in other] == pytest.approx([round(r[key], 4) for r in reference], abs=2e-4)


@pytest.mark.skipif(MPIEXEC_PATH is None, reason="mpiexec is not installed")
@pytest.mark.needs("keras", "mpi4py")
def test_data_parallel_on_the_torch_engine(tmp_path):
    if find_spec("torch") is None:
        pytest.skip("torch is not installed here")
    launcher = [MPIEXEC_PATH, "-n", "2"]
    parallel = _train("torch", tmp_path / "parallel", ["-z", "10", "--comm", "ring"], launcher)
    single = _train("torch", tmp_path / "single", ["-z", "20"])
    for key in ("loss", "val_loss"):
        assert [r[key] for r in parallel] == pytest.approx([r[key] for r in single], rel=1e-4)

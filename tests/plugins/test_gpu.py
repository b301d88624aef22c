"""Training on an NVIDIA GPU (marked gpu: skipped where torch sees no CUDA device).

Run them with ``python -m pytest -m gpu`` (``benchmarks/perf/gpu_check.sh`` does, with the GPU
benchmark). Tolerance stated here and in the README: with TF32 off (precision fp32), dropout 0
and plain SGD, CPU and GPU runs of one seed agree to 1e-3 relative in loss and val_loss over 3
epochs (the sums run in a different order on the two devices; nothing else differs).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible to torch"),
]
EXACT = ["--data", "synthetic", "--feature_subsample", "2000", "--optimizer", "sgd", "-lr", "0.01", "--dropout", "0"]
CPU_GPU_RTOL = 1e-3


def _run(tmp_path: Path, name: str, *flags: str) -> tuple[dict, list[dict]]:
    output = tmp_path / name
    done = subprocess.run(
        [sys.executable, "-m", "candle_core.cli", "run", "nt3", *flags, "--output_dir", str(output)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = next(output.glob("*/*/results.json")).parent
    return json.loads((run_dir / "results.json").read_text()), json.loads((run_dir / "history.json").read_text())


def test_torch_trains_on_the_gpu_and_records_it(tmp_path):
    results, history = _run(tmp_path, "gpu", *EXACT, "-e", "2", "--device", "cuda")
    placement = results["placement"]
    assert placement["device"] == "cuda:0" and placement["gpu"]["name"] == torch.cuda.get_device_name(0)
    assert placement["gpu"]["memory_gib"] > 1 and history[-1]["loss"] < history[0]["loss"]


def test_cpu_and_gpu_agree_for_one_seed(tmp_path):
    _, on_cpu = _run(tmp_path, "cpu", *EXACT, "-e", "3", "--device", "cpu")
    _, on_gpu = _run(tmp_path, "gpu", *EXACT, "-e", "3", "--device", "cuda", "--precision", "fp32")
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose([r[key] for r in on_gpu], [r[key] for r in on_cpu], rtol=CPU_GPU_RTOL)


@pytest.mark.parametrize("precision", ["tf32", "bf16", "fp16"])
def test_every_precision_trains_on_the_gpu(tmp_path, precision):
    results, history = _run(tmp_path, precision, *EXACT, "-e", "3", "--precision", precision)
    assert results["placement"]["precision"] == precision and results["placement"]["device"].startswith("cuda")
    assert np.isfinite([r["loss"] for r in history]).all() and history[-1]["loss"] < history[0]["loss"]


@pytest.mark.parametrize("first, then", [("cuda", "cpu"), ("cpu", "cuda")])
def test_checkpoints_move_between_devices(tmp_path, first, then):
    flags = [*EXACT, "--ckpt_restart_mode", "auto", "--output_dir", str(tmp_path / "run")]
    command = [sys.executable, "-m", "candle_core.cli", "run", "nt3", *flags]
    for device, epochs in ((first, "2"), (then, "3")):
        done = subprocess.run([*command, "-e", epochs, "--device", device], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(next((tmp_path / "run").glob("*/*/results.json")).read_text())
    assert results["resumed_from_epoch"] == 2 and results["epochs_run"] == 3
    assert results["placement"]["device"].startswith(then)


def test_monte_carlo_inference_on_the_gpu(tmp_path):
    results, _ = _run(tmp_path, "uq", "--data", "synthetic", "--feature_subsample", "2000", "-e", "2")
    run_dir = results["params"]["run_dir"]
    done = subprocess.run(
        [sys.executable, "-m", "candle_core.cli", "infer", "nt3", "--run", run_dir, "--mc-samples", "30"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(Path(run_dir, "uq_report.json").read_text())
    assert report["inference"]["device"].startswith("cuda") and report["inference"]["samples_per_second"] > 0
    print(f"MC inference on the GPU: {report['inference']['samples_per_second']:.0f} predictions/s")


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="NCCL data-parallel training needs two GPUs")
def test_nccl_trains_like_gloo(tmp_path):
    from candle_core.launch import find_mpiexec

    mpiexec = find_mpiexec()
    if mpiexec is None:
        pytest.skip("mpiexec is not installed")
    histories = {}
    for comm in ("nccl", "gloo"):
        device = "cuda" if comm == "nccl" else "cpu"
        command = [mpiexec, "-n", "2", sys.executable, "-m", "candle_core.cli", "run", "nt3", *EXACT, "-e", "2"]
        command += ["--comm", comm, "--device", device, "--output_dir", str(tmp_path / comm)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=dict(os.environ))
        assert done.returncode == 0, done.stderr[-3000:]
        histories[comm] = json.loads(next((tmp_path / comm).glob("*/*/history.json")).read_text())
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(
            [r[key] for r in histories["nccl"]], [r[key] for r in histories["gloo"]], rtol=CPU_GPU_RTOL
        )


def test_ring_averages_gpu_gradients_through_host_memory(tmp_path):
    """Two ranks on the GPU(s) with the ring communicator: gradients staged through the host."""
    from candle_core.launch import find_mpiexec

    mpiexec = find_mpiexec()
    if mpiexec is None:
        pytest.skip("mpiexec is not installed")
    command = [mpiexec, "-n", "2", sys.executable, "-m", "candle_core.cli", "run", "nt3", *EXACT, "-e", "2"]
    command += ["-z", "20", "--comm", "ring", "--device", "cuda", "--output_dir", str(tmp_path / "ring")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    parallel = json.loads(next((tmp_path / "ring").glob("*/*/history.json")).read_text())
    _, single = _run(tmp_path, "single", *EXACT, "-e", "2", "-z", "40", "--device", "cuda")
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose([r[key] for r in parallel], [r[key] for r in single], rtol=CPU_GPU_RTOL)

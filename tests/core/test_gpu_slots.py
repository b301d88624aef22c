"""GPUs handed to search trials: slots, CUDA_VISIBLE_DEVICES per trial, packing, errors."""

import json

import pytest

from candle_core.errors import CandleError
from candle_core.gpu_slots import GpuRequest, GpuSlot, node_gpus


def test_one_gpu_per_trial_by_default_when_the_node_has_gpus():
    assert GpuRequest().slots(["0", "1"]) == [GpuSlot(("0",)), GpuSlot(("1",))]
    assert GpuRequest().slots([]) == []  # a CPU node: trials run as before


def test_gpu_groups_and_packing():
    assert GpuRequest(2).slots(["0", "1", "2", "3", "4"]) == [GpuSlot(("0", "1")), GpuSlot(("2", "3"))]
    packed = GpuRequest(1, 3).slots(["0", "1"])
    assert [s.devices for s in packed] == [("0",), ("1",)] * 3  # spread before packing
    assert [s.memory_fraction for s in packed] == pytest.approx([1 / 3] * 6)
    assert packed[0].environment()["CANDLE_GPU_MEMORY_FRACTION"] == "0.3333"
    assert GpuRequest(0).slots(["0"]) == [] and GpuRequest(0).trial_environment(None) == {"CUDA_VISIBLE_DEVICES": ""}


def test_requests_that_cannot_be_met():
    with pytest.raises(CandleError, match="this node has 1 GPU"):
        GpuRequest(2).slots(["0"])
    with pytest.raises(CandleError, match="cannot combine"):
        GpuRequest(2, 2)
    with pytest.raises(CandleError, match="--trials-per-gpu 0"):
        GpuRequest(1, 0)


def test_node_gpus_follow_cuda_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,GPU-5f3a")
    assert node_gpus() == ["2", "GPU-5f3a"] and node_gpus([0, 1]) == ["0", "1"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert node_gpus() == []


@pytest.fixture
def lr_space(tmp_path):
    path = tmp_path / "space.json"
    path.write_text(json.dumps([{"name": "learning_rate", "type": "float", "lower": 0.001, "upper": 0.01}]))
    return path


SEARCH = ["--algorithm", "random", "--data", "synthetic", "--feature_subsample", "100", "-e", "1"]


def _placements(candle_dirs, experiment):
    found = sorted((candle_dirs / "nt3").glob(f"**/{experiment}/*/results.json"))
    return [json.loads(path.read_text()) for path in found]


def test_concurrent_trials_never_share_a_gpu(candle, candle_dirs, lr_space):
    done = candle("search", "nt3", "--space", str(lr_space), "--budget", "4", "--workers", "2", *SEARCH,
                  "--gpus", "0", "1", "--experiment_id", "SLOTS", timeout=600)  # fmt: skip
    assert done.code == 0, done.err
    results = _placements(candle_dirs, "SLOTS")
    assert len(results) == 4 and {r["placement"]["cuda_visible_devices"] for r in results} == {"0", "1"}
    spans = [(r["timings"]["started"], r["timings"]["started"] + r["timings"]["wall_seconds"], r) for r in results]
    for start, end, first in spans:
        for other_start, other_end, second in spans:
            if first is not second and start < other_end and other_start < end:  # ran at the same time
                assert first["placement"]["cuda_visible_devices"] != second["placement"]["cuda_visible_devices"]


def test_packed_trials_share_a_gpu_with_a_memory_share(candle, candle_dirs, lr_space):
    done = candle("search", "nt3", "--space", str(lr_space), "--budget", "2", "--workers", "2", *SEARCH,
                  "--gpus", "0", "--trials-per-gpu", "2", "--experiment_id", "PACKED", timeout=600)  # fmt: skip
    assert done.code == 0, done.err
    placements = [r["placement"] for r in _placements(candle_dirs, "PACKED")]
    assert [(p["cuda_visible_devices"], p["memory_fraction"]) for p in placements] == [("0", "0.5000")] * 2


def test_more_workers_than_gpu_slots_is_refused(candle, lr_space):
    done = candle("search", "nt3", "--space", str(lr_space), "--budget", "2", "--workers", "3", *SEARCH,
                  "--gpus", "0", "1", timeout=300)  # fmt: skip
    assert done.code == 2 and "2 GPU slot(s)" in done.err and "Traceback" not in done.err


def test_mpi_worker_ranks_take_their_nodes_gpu_slots(candle_dirs, lr_space):
    from candle_core.launch import find_mpiexec

    mpiexec = find_mpiexec()
    if mpiexec is None:
        pytest.skip("mpiexec is not installed")
    import subprocess
    import sys

    command = [mpiexec, "-n", "3", sys.executable, "-m", "candle_core.cli", "search", "nt3", "--space", str(lr_space)]
    command += ["--budget", "4", "--workers", "2", "--evaluator", "mpi", *SEARCH, "--gpus", "0", "1"]
    done = subprocess.run([*command, "--experiment_id", "MPISLOTS"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = _placements(candle_dirs, "MPISLOTS")
    assert len(results) == 4 and {r["placement"]["cuda_visible_devices"] for r in results} == {"0", "1"}

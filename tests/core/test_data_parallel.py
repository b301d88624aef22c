"""Data-parallel training under real mpiexec: both backends, the ring, mpi and horovod communicators."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from candle_core.data_parallel import DataParallel
from candle_core.launch import find_mpiexec
from tests.helpers import SMALL_NT3, run

MPIEXEC = find_mpiexec()
CHECKS = Path(__file__).with_name("data_parallel_checks.py")
needs_mpi = pytest.mark.skipif(MPIEXEC is None, reason="mpiexec is not installed (pip install 'candle[mpi]')")
# plain SGD without dropout: the runs then differ only in the order of floating-point sums (Adam
# and momentum amplify those: even one process on 1 vs 2 threads drifts apart by 3e-4 in 3 epochs)
EXACT = ["--data", "synthetic", "--feature_subsample", "300", "--optimizer", "sgd", "-lr", "0.01", "--dropout", "0"]
EXACT += ["-e", "3"]


def _history(output_dir: Path) -> list[dict]:
    return json.loads(next(output_dir.glob("*/*/history.json")).read_text())


class _Ranks:
    def __init__(self, rank: int, size: int) -> None:
        self.rank, self.size = rank, size


@pytest.mark.parametrize("size", [2, 3])
def test_shards_split_every_global_batch_equally(size):
    order = np.random.default_rng(0).permutation(107)
    shards = [DataParallel(_Ranks(r, size)).shard(order, 10) for r in range(size)]
    assert len({len(s) for s in shards}) == 1
    assert len(np.unique(np.concatenate(shards))) == sum(len(s) for s in shards) >= 107 - (size - 1)
    for step in range(len(shards[0]) // 10):  # rank r's step-k batch is its share of global batch k
        together = np.concatenate([s[step * 10 : (step + 1) * 10] for s in shards])
        assert np.array_equal(together, order[step * 10 * size : (step + 1) * 10 * size])


@needs_mpi
@pytest.mark.parametrize("backend", ["torch", pytest.param("keras", marks=pytest.mark.slow)])  # keras: 35-45 s, slow
def test_two_ranks_train_like_one_process_with_the_doubled_batch(backend, candle_dirs, tmp_path):
    parallel_dir = tmp_path / "parallel"
    result = subprocess.run(
        [MPIEXEC, "-n", "2", sys.executable, str(CHECKS), backend, "ring", str(parallel_dir), *EXACT, "-z", "20"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    digests = dict(line.split()[1:] for line in result.stdout.splitlines() if line.startswith("weights "))
    assert set(digests) == {"0", "1"} and digests["0"] == digests["1"]  # identical weights on every rank
    assert len(list(parallel_dir.glob("*/*/results.json"))) == 1  # rank 0 alone wrote

    _, single = run("nt3", [*EXACT, "--backend", backend, "-z", "40", "--output_dir", str(tmp_path / "single")])
    parallel = _history(parallel_dir)
    # float32: the mean of two half-batch gradients rounds differently from one batch's; Keras'
    # kernels drift further apart over three epochs (2.6e-4 seen with Keras 3 on TensorFlow 2.21)
    tolerance = 1e-4 if backend == "torch" else 1e-3
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose([r[key] for r in parallel], [r[key] for r in single], rtol=tolerance)


@needs_mpi
def test_candle_run_under_mpiexec(candle_dirs, tmp_path):
    flags = [*SMALL_NT3, "-e", "2", "--output_dir", str(tmp_path)]
    command = [MPIEXEC, "-n", "2", sys.executable, "-m", "candle_core.cli", "run", "nt3", *flags]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "--comm is none" in refused.stderr and "Traceback" not in refused.stderr
    done = subprocess.run([*command, "--comm", "mpi"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("candle: nt3: 2 epochs") == 1  # rank 0 reports
    results = json.loads(next(tmp_path.glob("*/*/results.json")).read_text())
    assert results["data_parallel"] == {"ranks": 2, "comm": "mpi", "rank": 0}
    assert results["status"] == "ok" and len(results["params"]) > 0


@needs_mpi
def test_horovod_trains_the_torch_backend_like_the_ring(candle_dirs, tmp_path):
    pytest.importorskip("horovod.torch", reason="horovod is not installed (bash recipes/install_horovod.sh)")
    histories = {}
    for comm in ("horovod", "ring"):
        result = subprocess.run(
            [MPIEXEC, "-n", "2", sys.executable, str(CHECKS), "torch", comm, str(tmp_path / comm), *EXACT],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        digests = {line.split()[2] for line in result.stdout.splitlines() if line.startswith("weights ")}
        assert len(digests) == 1
        histories[comm] = _history(tmp_path / comm)
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(
            [r[key] for r in histories["horovod"]], [r[key] for r in histories["ring"]], rtol=1e-3
        )


@needs_mpi
@pytest.mark.parametrize("backend", ["torch", pytest.param("keras", marks=pytest.mark.slow)])  # keras: 35-45 s, slow
def test_gloo_through_torch_distributed_trains_like_the_ring(backend, candle_dirs, tmp_path):
    """The nccl communicator's code path (torch.distributed, rendezvous over mpi4py) on CPUs."""
    pytest.importorskip("torch.distributed")
    digests, histories = {}, {}
    for comm in ("gloo", "ring"):
        result = subprocess.run(
            [MPIEXEC, "-n", "2", sys.executable, str(CHECKS), backend, comm, str(tmp_path / comm), *EXACT],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        digests[comm] = {line.split()[2] for line in result.stdout.splitlines() if line.startswith("weights ")}
        histories[comm] = _history(tmp_path / comm)
    assert len(digests["gloo"]) == 1  # every rank holds the same weights
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose([r[key] for r in histories["gloo"]], [r[key] for r in histories["ring"]], rtol=1e-5)


@needs_mpi
def test_nccl_without_gpus_is_refused_with_the_cpu_alternative(candle_dirs, tmp_path):
    command = [MPIEXEC, "-n", "2", sys.executable, "-m", "candle_core.cli", "run", "nt3", *SMALL_NT3, "-e", "1"]
    done = subprocess.run([*command, "--comm", "nccl"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})  # fmt: skip
    assert done.returncode != 0 and "--comm gloo" in done.stderr and "Traceback" not in done.stderr

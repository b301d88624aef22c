"""The GPU step benchmark runs on a CPU too (small width), so CI smoke-tests it."""

import subprocess
import sys
from pathlib import Path

PERF = Path(__file__).parents[2] / "benchmarks" / "perf"


def test_gpu_step_benchmark_runs_on_the_cpu():
    done = subprocess.run(
        [sys.executable, str(PERF / "gpu_step.py"), "--device", "cpu", "--widths", "200", "--batches", "8"]
        + ["--steps", "2", "--precisions", "fp32", "--backends", "torch", "--no-epoch"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line.split() for line in done.stdout.splitlines() if line.strip().startswith("200")]
    assert [" ".join(row[3:5]) for row in rows] == ["plain PyTorch", "candle torch"]
    assert rows[0][-1] == "1.00x" and float(rows[1][-1].rstrip("x")) > 0

#!/usr/bin/env bash
# GPU check in one go, for a machine that already has torch with CUDA (and pluggy, tqdm, numpy,
# pandas, matplotlib, pytest): install candle without dependencies, show what candle sees, run the
# tests marked gpu, then the GPU step benchmark. Finishes in under 5 minutes on one H100/H200.
#
#   bash benchmarks/perf/gpu_check.sh [OUTPUT_FOLDER]
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-gpu-check}"
mkdir -p "$out"
python -m pip install --no-deps --no-build-isolation -q -e . 2>&1 | tail -3
python -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA device'"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
python -m candle_core.cli env | tee "$out/env.txt"
export CANDLE_DATA_DIR="$out/candle_data"
python -m pytest -m gpu -q -rs -s tests/plugins/test_gpu.py -p no:cacheprovider 2>&1 | tee "$out/pytest_gpu.txt"
timeout 240 python benchmarks/perf/gpu_step.py 2>&1 | tee "$out/gpu_step.txt"

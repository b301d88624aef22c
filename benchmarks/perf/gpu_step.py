"""NT3 training steps on a GPU: candle's torch backend against plain PyTorch, in one process.

    python benchmarks/perf/gpu_step.py                       # on a GPU: full width and 6,000, batch 20 and 256
    python benchmarks/perf/gpu_step.py --device cpu --widths 300 --batches 8 --steps 2   # CPU smoke run

For each width x batch x precision (fp32 with TF32 off, tf32, bf16 autocast, fp16 autocast with
loss scaling) it times ``--steps`` training steps after a warm-up pass, with the device
synchronised before and after, for:

* plain PyTorch: nn.Conv1d/MaxPool1d/Linear on (batch, channels, length), CrossEntropyLoss on
  logits, SGD, data resident on the device, batches indexed there (the baseline);
* candle torch: the backend's ``train_epoch`` on the same data, as ``candle run`` calls it;
* candle keras: the same, when Keras is importable (on whatever engine KERAS_BACKEND names);

and prints ms/step, samples/s and candle's samples/s relative to plain PyTorch. With ``--epoch``
(default on a GPU) it also runs one whole synthetic NT3 epoch at full width in bf16 through
``candle run`` and reports its seconds and the GPU utilization sampled by nvidia-smi meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from candle_benchmarks.nt3.model import nt3_model  # noqa: E402
from candle_core.initializers import initial_weights  # noqa: E402
from candle_core.plugin_manager import get_plugin_manager  # noqa: E402
from candle_plugins.backends.torch.devices import set_tf32  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from helpers import nt3_defaults  # noqa: E402

NT3 = nt3_defaults()
FULL_WIDTH = 60483
AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def data(width: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((rows, width, 1), dtype=np.float32)
    return x, np.eye(2, dtype=np.float32)[rng.integers(0, 2, rows)]


def plain_pytorch(x: np.ndarray, y: np.ndarray, batch: int, precision: str, device: torch.device) -> float:
    """Seconds per step of an idiomatic PyTorch loop over the whole of ``x`` (after a warm-up)."""
    torch.manual_seed(0)
    set_tf32(precision == "tf32")  # the same switch candle's backend uses
    width = x.shape[1]
    net = nn.Sequential(
        nn.Conv1d(1, 128, 20), nn.ReLU(), nn.MaxPool1d(1),
        nn.Conv1d(128, 128, 10), nn.ReLU(), nn.MaxPool1d(10), nn.Flatten(),
        nn.Linear((width - 19 - 9) // 10 * 128, 200), nn.ReLU(), nn.Dropout(0.1),
        nn.Linear(200, 20), nn.ReLU(), nn.Dropout(0.1), nn.Linear(20, 2),
    ).to(device)  # fmt: skip
    optimizer = torch.optim.SGD(net.parameters(), lr=0.001)
    scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None
    loss_fn = nn.CrossEntropyLoss()
    inputs = torch.from_numpy(x).permute(0, 2, 1).contiguous().to(device)
    labels = torch.from_numpy(y.argmax(axis=1)).to(device)

    def one_pass() -> int:
        steps = 0
        for start in range(0, len(inputs), batch):
            optimizer.zero_grad(set_to_none=True)
            context = torch.autocast(device.type, dtype=AUTOCAST[precision]) if precision in AUTOCAST else nullcontext()
            with context:
                loss = loss_fn(net(inputs[start : start + batch]), labels[start : start + batch])
            if scaler is None:
                loss.backward()
                optimizer.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            steps += 1
        return steps

    return _timed(one_pass, device)


def candle_backend(name: str, x: np.ndarray, y: np.ndarray, batch: int, precision: str, device: str) -> float:
    """Seconds per step of candle's backend ``train_epoch`` over the whole of ``x`` (after a warm-up)."""
    backend = get_plugin_manager().component("backend", name)()
    spec = nt3_model(NT3, x.shape[1:])
    model = backend.build(spec, initial_weights(spec.infos(), spec.initializer, 0), precision, 0, device=device)
    order = np.arange(len(x))

    def one_pass() -> int:
        backend.train_epoch(model, x, y, batch, order, lambda: None)
        return -(-len(x) // batch)

    return _timed(one_pass, torch.device(device))


def _timed(one_pass, device: torch.device) -> float:
    one_pass()  # warm-up: kernels chosen, data moved, caches filled
    synchronize(device)
    started = time.perf_counter()
    steps = one_pass()
    synchronize(device)
    return (time.perf_counter() - started) / steps


def whole_epoch(device: str) -> dict:
    """One synthetic NT3 epoch at full width in bf16 through ``candle run``, with the GPU's
    utilization sampled every 100 ms by nvidia-smi while it runs."""
    with tempfile.TemporaryDirectory() as folder:
        sampler = None
        tool = shutil.which("nvidia-smi")
        samples = Path(folder) / "utilization.csv"
        if tool and device.startswith("cuda"):
            index = device.split(":")[1] if ":" in device else "0"
            query = [tool, "-i", index, "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", "-lms", "100"]
            sampler = subprocess.Popen(query, stdout=samples.open("w"), stderr=subprocess.DEVNULL)
        command = [sys.executable, "-m", "candle_core.cli", "run", "nt3", "--data", "synthetic", "--precision", "bf16"]
        command += ["-e", "2", "--device", device, "--output_dir", folder, "--plots", "false"]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if sampler is not None:
            sampler.terminate()
            sampler.wait()
        if done.returncode != 0:
            return {"error": done.stderr[-2000:]}
        history = json.loads(next(Path(folder).glob("*/*/history.json")).read_text())
        utilization = [float(v) for v in samples.read_text().split()] if samples.exists() else []
        busy = [u for u in utilization if u > 0]
        return {
            "epoch_seconds": [round(row["seconds"], 3) for row in history],
            "command_seconds": round(wall, 1),
            "gpu_utilization_mean_busy_pct": round(sum(busy) / len(busy), 1) if busy else None,
            "gpu_utilization_max_pct": max(utilization) if utilization else None,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    on_gpu = torch.cuda.is_available()
    parser.add_argument("--device", default="cuda:0" if on_gpu else "cpu")
    parser.add_argument("--widths", type=int, nargs="+", default=[FULL_WIDTH, 6000] if on_gpu else [300])
    parser.add_argument("--batches", type=int, nargs="+", default=[20, 256] if on_gpu else [20])
    parser.add_argument(
        "--precisions", nargs="+", default=["fp32", "tf32", "bf16", "fp16"] if on_gpu else ["fp32", "bf16"]
    )
    parser.add_argument("--steps", type=int, default=20 if on_gpu else 3, help="timed steps per case")
    parser.add_argument("--backends", nargs="+", default=["torch", "keras"])
    parser.add_argument("--epoch", action=argparse.BooleanOptionalAction, default=on_gpu)
    args = parser.parse_args()
    device = torch.device(args.device)
    header = f"# {torch.cuda.get_device_name(device)}" if device.type == "cuda" else f"# CPU ({os.cpu_count()} cores)"
    print(f"{header}, torch {torch.__version__}, CUDA {torch.version.cuda}, {time.strftime('%Y-%m-%d')}")
    print(f"{'width':>6} {'batch':>5} {'precision':>9} {'code':>13} {'ms/step':>9} {'samples/s':>10} {'vs plain':>8}")
    for width in args.widths:
        for batch in args.batches:
            x, y = data(width, batch * args.steps)
            for precision in args.precisions:
                if precision == "tf32" and device.type != "cuda":
                    continue
                baseline = plain_pytorch(x, y, batch, precision, device)
                rows = [("plain PyTorch", baseline)]
                for name in args.backends:
                    try:
                        rows.append((f"candle {name}", candle_backend(name, x, y, batch, precision, args.device)))
                    except ImportError as exc:
                        print(f"  (candle {name} skipped: {exc})")
                for code, seconds in rows:
                    print(
                        f"{width:>6} {batch:>5} {precision:>9} {code:>13} {seconds * 1e3:>9.2f} "
                        f"{batch / seconds:>10.0f} {baseline / seconds:>7.2f}x"
                    )
                if device.type == "cuda":
                    torch.cuda.empty_cache()
    if args.epoch:
        print("# one synthetic NT3 epoch, full width, bf16, through candle run:", json.dumps(whole_epoch(args.device)))


if __name__ == "__main__":
    main()

"""Time NT3 training steps: candle's backends against plain framework code of the same network.

    python benchmarks/perf/nt3_step.py [--widths 6000 60483] [--steps 5] [--accuracy]

For each width (features) and batch 20, in this one process, it times (median seconds per
training step, after one warm-up step):

* plain PyTorch: nn.Conv1d/MaxPool1d/Linear on (batch, channels, length), CrossEntropyLoss, SGD;
* candle torch backend, fp32 and bf16;
* plain Keras: keras.Sequential of the same layers, model.fit;
* candle keras backend, fp32 and bf16;

and prints the ratios. ``--accuracy`` also trains synthetic NT3 (width 2000, 4 epochs by default) in
fp32 and bf16 on both backends and prints the validation accuracies.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from step_timing import candle_step, median_step  # noqa: E402

from candle_benchmarks.nt3.model import nt3_model  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests"))
from helpers import nt3_defaults, run  # noqa: E402

NT3 = nt3_defaults()  # the network of NT3's default model file
BATCH = 20


def data(width: int, steps: int):
    rng = np.random.default_rng(0)
    x = rng.random((BATCH * (steps + 1), width, 1), dtype=np.float32)
    y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, len(x))]
    return x, y


def plain_torch(width: int, steps: int) -> float:
    import torch
    from torch import nn

    torch.manual_seed(0)
    length = (width - 19 - 9) // 10
    net = nn.Sequential(
        nn.Conv1d(1, 128, 20),
        nn.ReLU(),
        nn.MaxPool1d(1),
        nn.Conv1d(128, 128, 10),
        nn.ReLU(),
        nn.MaxPool1d(10),
        nn.Flatten(),
        nn.Linear(length * 128, 200),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(200, 20),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(20, 2),
    )
    optimizer = torch.optim.SGD(net.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    x, y = data(width, steps)
    x = torch.from_numpy(x).permute(0, 2, 1).contiguous()
    labels = torch.from_numpy(y.argmax(axis=1))
    times = [time.perf_counter()]
    for start in range(0, len(x), BATCH):
        optimizer.zero_grad()
        loss = loss_fn(net(x[start : start + BATCH]), labels[start : start + BATCH])
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter())
    return median_step(times)


def plain_keras(width: int, steps: int) -> float:
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((width, 1)),
            layers.Conv1D(128, 20, activation="relu"),
            layers.MaxPooling1D(1),
            layers.Conv1D(128, 10, activation="relu"),
            layers.MaxPooling1D(10),
            layers.Flatten(),
            layers.Dense(200, activation="relu"),
            layers.Dropout(0.1),
            layers.Dense(20, activation="relu"),
            layers.Dropout(0.1),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.001), loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = data(width, steps)
    times = [time.perf_counter()]
    stamp = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: times.append(time.perf_counter()))
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[stamp])
    return median_step(times)


def candle_backend(name: str, width: int, steps: int, precision: str) -> float:
    return candle_step(name, nt3_model(NT3, (width, 1)), *data(width, steps), BATCH, precision)


def accuracy(width: int, epochs: int) -> None:
    print(f"\nsynthetic NT3, width {width}, adam 1e-4, {epochs} epochs: validation accuracy per epoch")
    for name in ("torch", "keras"):
        for precision in ("fp32", "bf16"):
            results, history = run(
                "nt3",
                [
                    "--data",
                    "synthetic",
                    "--feature_subsample",
                    str(width),
                    "--optimizer",
                    "adam",
                    "-lr",
                    "0.0001",
                    "-e",
                    str(epochs),
                    "--backend",
                    name,
                    "--precision",
                    precision,
                    "--experiment_id",
                    f"PERF_{name}_{precision}",
                ],
            )
            accuracies = ", ".join(f"{row['val_accuracy']:.3f}" for row in history)
            print(f"  {name:5s} {precision}: {accuracies}  ({results['timings']['mean_epoch_seconds']:.0f} s/epoch)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="*", default=[6000, 60483], help="none: skip the timing")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--accuracy", action="store_true")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--accuracy-width", type=int, default=2000)
    args = parser.parse_args()
    for width in args.widths:
        steps = args.steps if width < 20000 else max(2, args.steps // 2)
        r = {
            "plain PyTorch": plain_torch(width, steps),
            "candle torch fp32": candle_backend("torch", width, steps, "fp32"),
            "candle torch bf16": candle_backend("torch", width, steps, "bf16"),
            "plain Keras": plain_keras(width, steps),
            "candle keras fp32": candle_backend("keras", width, steps, "fp32"),
            "candle keras bf16": candle_backend("keras", width, steps, "bf16"),
        }
        print(f"\nNT3 width {width}, batch {BATCH}, median of {steps} steps (s/step)")
        for label, seconds in r.items():
            print(f"  {label:18s} {seconds:7.3f}")
        print(f"  candle torch fp32 speed-up over plain PyTorch: {r['plain PyTorch'] / r['candle torch fp32']:.2f}x")
        print(f"  candle torch fp32 vs plain Keras (speed):      {r['plain Keras'] / r['candle torch fp32']:.2f}x")
        print(
            f"  candle torch bf16 speed-up over its fp32:      {r['candle torch fp32'] / r['candle torch bf16']:.2f}x"
        )
        print(f"  candle keras fp32 time / plain Keras time:     {r['candle keras fp32'] / r['plain Keras']:.3f}")
        print(
            f"  candle keras bf16 speed-up over its fp32:      {r['candle keras fp32'] / r['candle keras bf16']:.2f}x"
        )
    if args.accuracy:
        accuracy(args.accuracy_width, args.epochs)


if __name__ == "__main__":
    main()

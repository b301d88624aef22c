"""Time MNIST training steps: candle's backends against plain framework code of the same networks.

    python benchmarks/perf/mnist_step.py [--steps 30]

For CANDLE's MLP and CNN examples at batch 128, in this one process, it times (median seconds per
training step, after a warm-up step) plain PyTorch (nn.Conv2d/MaxPool2d/Linear on NCHW images,
CrossEntropyLoss, RMSprop), candle's torch backend, plain Keras (the example's keras.Sequential,
model.fit) and candle's keras backend, and prints the ratios against the plain code.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from step_timing import candle_step, median_step  # noqa: E402

from candle_benchmarks.mnist.data import input_shape  # noqa: E402
from candle_benchmarks.mnist.model import mnist_model  # noqa: E402

BATCH = 128
PARAMS = {"activation": "relu", "optimizer": "rmsprop", "learning_rate": None}


def data(kind: str, steps: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((BATCH * (steps + 1), *input_shape({"model": kind})), dtype=np.float32)
    return x, np.eye(10, dtype=np.float32)[rng.integers(0, 10, len(x))]


def plain_torch(kind: str, steps: int) -> float:
    import torch
    from torch import nn

    torch.manual_seed(0)
    if kind == "cnn":
        net = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Flatten(), nn.Linear(12 * 12 * 64, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10),
        )  # fmt: skip
    else:
        net = nn.Sequential(
            nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(512, 10),
        )  # fmt: skip
    optimizer = torch.optim.RMSprop(net.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    x, y = data(kind, steps)
    inputs = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous() if kind == "cnn" else torch.from_numpy(x)
    labels = torch.from_numpy(y.argmax(axis=1))
    times = [time.perf_counter()]
    for start in range(0, len(inputs), BATCH):
        optimizer.zero_grad()
        loss_fn(net(inputs[start : start + BATCH]), labels[start : start + BATCH]).backward()
        optimizer.step()
        times.append(time.perf_counter())
    return median_step(times)


def plain_keras(kind: str, steps: int) -> float:
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    if kind == "cnn":
        stack = [
            layers.Conv2D(32, (3, 3), activation="relu"), layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)), layers.Dropout(0.25), layers.Flatten(),
            layers.Dense(128, activation="relu"), layers.Dropout(0.5),
        ]  # fmt: skip
    else:
        stack = [layers.Dense(512, activation="relu"), layers.Dropout(0.2)]
        stack += [layers.Dense(512, activation="relu"), layers.Dropout(0.2)]
    shape = input_shape({"model": kind})
    model = keras.Sequential([keras.Input(shape), *stack, layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.RMSprop(), loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = data(kind, steps)
    times = [time.perf_counter()]
    stamp = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: times.append(time.perf_counter()))
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[stamp])
    return median_step(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    for kind in ("mlp", "cnn"):
        spec = mnist_model({**PARAMS, "model": kind}, input_shape({"model": kind}))
        r = {
            "plain PyTorch": plain_torch(kind, args.steps),
            "candle torch": candle_step("torch", spec, *data(kind, args.steps), BATCH, "fp32"),
            "plain Keras": plain_keras(kind, args.steps),
            "candle keras": candle_step("keras", spec, *data(kind, args.steps), BATCH, "fp32"),
        }
        print(f"\nMNIST {kind}, batch {BATCH}, median of {args.steps} steps (ms/step)")
        for label, seconds in r.items():
            print(f"  {label:14s} {1000 * seconds:8.2f}")
        print(f"  candle torch time / plain PyTorch time: {r['candle torch'] / r['plain PyTorch']:.3f}")
        print(f"  candle keras time / plain Keras time:   {r['candle keras'] / r['plain Keras']:.3f}")


if __name__ == "__main__":
    main()

"""MNIST's data: the real 70,000 handwritten digits, or scikit-learn's 1,797 digits offline.

Real data: Keras' ``mnist.npz`` (60,000 training and 10,000 test images of 28x28 grey levels,
sha256-checked), cached in ``data_dir`` (``data_url`` names a mirror of the same file); as in
CANDLE's example, the test images serve as validation set and pixels are scaled to [0, 1].
When it cannot be reached (or with ``--data synthetic``) the offline stand-in is a real data
set that ships with scikit-learn: its 8x8 digits (grey levels 0-16), enlarged to 20x20 and
centred in 28x28 as MNIST's digits are, with ``val_split`` of them (seeded) held out for
validation.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from candle_core.data.dataset import Dataset
from candle_core.data.fetch import Unreachable, fetch
from candle_core.data.tabular import one_hot, split_validation
from candle_core.errors import CandleError

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
SIDE, DIGIT_SIDE, CLASSES = 28, 20, 10


def input_shape(params: Mapping[str, Any]) -> tuple[int, ...]:
    return (SIDE, SIDE, 1) if params.get("model") == "cnn" else (SIDE * SIDE,)


def mnist_url(params: Mapping[str, Any]) -> str:
    mirror = params.get("data_url")
    return str(mirror).rstrip("/") + "/mnist.npz" if mirror else MNIST_URL


def real_images(params: Mapping[str, Any]) -> tuple[np.ndarray, ...]:
    path = fetch(mnist_url(params), Path(params["data_dir"]), sha256=MNIST_SHA256)
    with np.load(path, allow_pickle=False) as arrays:
        return tuple(arrays[key] for key in ("x_train", "y_train", "x_test", "y_test"))


def sklearn_digits(params: Mapping[str, Any]) -> tuple[np.ndarray, ...]:
    """scikit-learn's digits as MNIST-like 28x28 images in 0-255, split for validation."""
    try:
        from scipy.ndimage import zoom
        from sklearn.datasets import load_digits
    except ImportError:
        raise CandleError("MNIST's offline data needs scikit-learn: pip install 'candle[search]'") from None
    digits = load_digits()
    enlarged = zoom(digits.images, (1, DIGIT_SIDE / 8, DIGIT_SIDE / 8), order=1)
    margin = (SIDE - DIGIT_SIDE) // 2
    images = np.zeros((len(enlarged), SIDE, SIDE), dtype=np.float32)
    images[:, margin : margin + DIGIT_SIDE, margin : margin + DIGIT_SIDE] = np.clip(enlarged, 0, 16) * (255 / 16)
    return split_validation(images, digits.target, float(params.get("val_split") or 0.2), int(params["rng_seed"]))


def load(params: Mapping[str, Any]) -> Dataset:
    source = "mnist.npz"
    if params.get("data") == "synthetic":
        source = "sklearn digits"
    else:
        try:
            tables = real_images(params)
        except Unreachable:
            print(
                f"candle: mnist: {mnist_url(params)} cannot be reached; training on scikit-learn's digits instead",
                file=sys.stderr,
            )
            source = "sklearn digits"
    if source != "mnist.npz":
        tables = sklearn_digits(params)
    x_train, y_train, x_val, y_val = tables
    shape = input_shape(params)

    def pixels(images: np.ndarray) -> np.ndarray:
        return (images.astype(np.float32) / np.float32(255)).reshape(len(images), *shape)

    return Dataset(
        pixels(x_train),
        one_hot(y_train, CLASSES),
        pixels(x_val),
        one_hot(y_val, CLASSES),
        meta={"source": source, "training_images": len(x_train)},
    )

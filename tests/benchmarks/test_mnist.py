"""MNIST: CANDLE's MLP and CNN examples; real MNIST through its checksum, scikit-learn's digits offline."""

import hashlib
import io
import socket

import numpy as np
import pytest
from helpers import run

BACKENDS = ["torch", "keras"]


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


@pytest.mark.parametrize("model, expected", [("mlp", 669_706), ("cnn", 1_199_882)])
@pytest.mark.needs("keras")
def test_summaries_match_the_keras_examples(candle, model, expected):
    for name in BACKENDS:
        result = candle("summary", "mnist", "--model", model, "--backend", name)
        assert result.code == 0 and result.out.strip().endswith(f"total parameters: {expected}"), result.err


@pytest.mark.parametrize("name", BACKENDS)
def test_offline_mlp_trains_on_scikit_learn_digits(name, capsys):
    results, history = run("mnist", ["--data_url", _closed_port_url(), "--backend", name, "-e", "3"])
    assert "cannot be reached; training on scikit-learn's digits" in capsys.readouterr().err
    assert results["data"] == {"source": "sklearn digits", "training_images": 1438}
    assert history[-1]["val_accuracy"] > 0.85, history


@pytest.mark.parametrize("name", BACKENDS)
def test_cnn_trains(name):
    results, history = run("mnist", ["--data", "synthetic", "--model", "cnn", "--backend", name, "-e", "2"])
    assert results["parameters"] == 1_199_882 and history[-1]["val_accuracy"] > 0.5, history


def test_a_file_with_the_wrong_checksum_is_refused_not_replaced(file_server, candle):
    base, files = file_server
    files["/mirror/mnist.npz"] = b"not mnist"
    result = candle("run", "mnist", "--data_url", base + "mirror/", "-e", "1")
    assert result.code == 2 and "sha256 is" in result.err and "digits instead" not in result.err


def test_cached_mnist_file_is_read(candle_dirs, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 50, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 10, dtype=np.uint8),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    cache = candle_dirs / "mnist" / "Data"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(buffer.getvalue())
    # a cached file is verified against the pinned checksum when used: pin this file's (no real MNIST here)
    monkeypatch.setattr("candle_benchmarks.mnist.data.MNIST_SHA256", hashlib.sha256(buffer.getvalue()).hexdigest())
    results, history = run("mnist", ["--model", "cnn", "-e", "1", "--batch_size", "25"])
    assert results["data"] == {"source": "mnist.npz", "training_images": 50} and len(history) == 1

"""MNIST: CANDLE's tutorial example, handwritten digits with an MLP or a CNN (``--model``).

The default model file is CANDLE's own ``mnist_params.txt``, unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from candle_core import Benchmark, hookimpl

ADDITIONAL_DEFINITIONS = [
    {"name": "model", "type": str, "default": "mlp", "choices": ["mlp", "cnn"], "help": "network: mlp or cnn"},
]
REQUIRED = ["epochs", "batch_size", "activation", "optimizer"]


class MNIST(Benchmark):
    name = "mnist"
    description = "MNIST: handwritten digits, MLP or CNN (CANDLE's tutorial example)"
    additional_definitions = ADDITIONAL_DEFINITIONS
    required = REQUIRED

    def input_shape(self, params: Mapping[str, Any]) -> tuple[int, ...]:
        from candle_benchmarks.mnist.data import input_shape

        return input_shape(params)

    def load_data(self, params: Mapping[str, Any]):
        from candle_benchmarks.mnist.data import load

        return load(params)

    def build_model(self, params: Mapping[str, Any], input_shape: tuple[int, ...]):
        from candle_benchmarks.mnist.model import mnist_model

        return mnist_model(params, input_shape)


@hookimpl
def candle_benchmarks() -> list[Benchmark]:
    return [MNIST(Path(__file__).parent, "mnist_params.txt", "torch")]

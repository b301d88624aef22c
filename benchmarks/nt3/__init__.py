"""NT3 (Pilot1): a 1-D convolutional classifier of normal versus tumor gene expression.

Parameters follow CANDLE's ``nt3.py`` and its unchanged ``nt3_default_model.txt``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from candle_core import Benchmark, hookimpl, str2bool

ADDITIONAL_DEFINITIONS = [
    {"name": "model_name", "type": str, "default": "nt3", "help": "model name"},
    {"name": "classes", "type": int, "default": 2, "bounds": "[2, inf)", "help": "number of classes"},
    {"name": "mixed_precision", "type": str2bool, "default": False, "help": "mixed precision training"},
    {"name": "add_noise", "type": str2bool, "default": False, "help": "add noise to the labels"},
    {
        "name": "label_noise",
        "type": float,
        "bounds": "[0, 1]",
        "help": "fraction of labels to flip when add_noise is on",
    },
    {"name": "noise_correlated", "type": str2bool, "default": False, "help": "correlate label noise with a feature"},
    {"name": "noise_cluster", "type": str2bool, "default": False, "help": "noise on a cluster of samples"},
    {"name": "noise_column", "type": str2bool, "default": False, "help": "noise on a feature column"},
    {"name": "noise_type", "type": str, "help": "type of feature noise (gaussian, ...)"},
    {"name": "feature_col", "type": int, "help": "feature column used by correlated noise"},
    {"name": "feature_threshold", "type": float, "help": "feature threshold used by correlated noise"},
    {"name": "noise_gaussian", "type": str2bool, "default": False, "help": "add gaussian noise to the features"},
    {"name": "std_dev", "type": float, "help": "standard deviation of the gaussian feature noise"},
]

REQUIRED = [
    "data_url",
    "train_data",
    "test_data",
    "model_name",
    "conv",
    "dense",
    "activation",
    "out_activation",
    "loss",
    "optimizer",
    "metrics",
    "epochs",
    "batch_size",
    "learning_rate",
    "dropout",
    "classes",
    "pool",
    "timeout",
]


class NT3(Benchmark):
    name = "nt3"
    description = "NT3: 1-D CNN classifying normal vs tumor RNA-seq profiles (Pilot1)"
    additional_definitions = ADDITIONAL_DEFINITIONS
    required = REQUIRED

    def input_shape(self, params: Mapping[str, Any]) -> tuple[int, ...]:
        from candle_benchmarks.nt3.data import width

        return (width(params), 1)

    def load_data(self, params: Mapping[str, Any]):
        from candle_benchmarks.nt3.data import load

        return load(params)

    def build_model(self, params: Mapping[str, Any], input_shape: tuple[int, ...]):
        from candle_benchmarks.nt3.model import nt3_model

        return nt3_model(params, input_shape)


@hookimpl
def candle_benchmarks() -> list[Benchmark]:
    return [NT3(Path(__file__).parent, "nt3_default_model.txt", "torch")]

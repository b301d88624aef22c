"""P1B1 (Pilot1): an autoencoder of gene expression (ae, vae, cvae).

Parameters follow CANDLE's ``p1b1.py`` and its unchanged ``p1b1_default_model.txt``. The
reported metric is ``val_corr``, the Pearson correlation between the validation profiles and
their reconstructions (CANDLE's ``evaluate_autoencoder``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from candle_core import Benchmark, hookimpl, str2bool

ADDITIONAL_DEFINITIONS = [
    {"name": "model", "type": str, "default": "ae", "choices": ["ae", "vae", "cvae"], "help": "autoencoder kind"},
    {"name": "latent_dim", "type": int, "default": 2, "help": "latent dimension"},
    {"name": "epsilon_std", "type": float, "default": 1.0, "help": "standard deviation of the VAE sampling noise"},
    {"name": "base_lr", "type": float, "help": "base learning rate (None: the optimizer's default)"},
    {"name": "alpha_dropout", "type": str2bool, "default": False, "help": "alpha dropout instead of dropout"},
    {"name": "use_landmark_genes", "type": str2bool, "default": False, "help": "use the 978 landmark genes only"},
]

REQUIRED = [
    "activation",
    "batch_size",
    "dense",
    "dropout",
    "epochs",
    "initialization",
    "learning_rate",
    "loss",
    "optimizer",
    "rng_seed",
    "scaling",
    "val_split",
    "latent_dim",
    "batch_normalization",
    "epsilon_std",
    "timeout",
]


class P1B1(Benchmark):
    name = "p1b1"
    description = "P1B1: autoencoder (ae/vae/cvae) of RNA-seq gene expression (Pilot1)"
    additional_definitions = ADDITIONAL_DEFINITIONS
    required = REQUIRED

    def input_shape(self, params: Mapping[str, Any]) -> tuple[int, ...]:
        """The genes (and, for a cvae, the synthetic set's cancer types; with real data the
        number of types in the files)."""
        from candle_benchmarks.p1b1.data import SYNTHETIC_TYPES, width

        return (width(params) + (SYNTHETIC_TYPES if params.get("model") == "cvae" else 0),)

    def load_data(self, params: Mapping[str, Any]):
        from candle_benchmarks.p1b1.data import load

        return load(params)

    def build_model(self, params: Mapping[str, Any], input_shape: tuple[int, ...]):
        from candle_benchmarks.p1b1.data import width
        from candle_benchmarks.p1b1.model import p1b1_model

        genes = width(params) if params.get("model") == "cvae" else input_shape[0]
        return p1b1_model(params, input_shape, genes)


@hookimpl
def candle_benchmarks() -> list[Benchmark]:
    return [P1B1(Path(__file__).parent, "p1b1_default_model.txt", "torch")]

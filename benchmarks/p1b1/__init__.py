"""P1B1 (Pilot1): an autoencoder of gene expression (ae, vae, cvae).

Parameters follow CANDLE's ``p1b1.py`` and its unchanged ``p1b1_default_model.txt``.
"""

from __future__ import annotations

from pathlib import Path

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


@hookimpl
def candle_benchmarks() -> list[Benchmark]:
    return [P1B1(Path(__file__).parent, "p1b1_default_model.txt", "torch")]

"""A P1B1-style benchmark definition and data loader (upstream Pilot1 style)."""

import logging
import os

import candle

file_path = os.path.dirname(os.path.realpath(__file__))
logger = logging.getLogger(__name__)
candle.set_parallelism_threads()

additional_definitions = [
    {"name": "latent_dim", "type": int, "help": "latent dimensions"},
    {"name": "model", "default": "ae", "choices": ["ae", "vae"], "help": "model to use"},
    {"name": "tsne", "type": candle.str2bool, "default": False, "help": "t-SNE plot"},
]

required = [
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
    "model",
    "scaling",
    "val_split",
    "latent_dim",
    "feature_subsample",
    "timeout",
]


class BenchmarkP1B1Like(candle.Benchmark):
    def set_locals(self):
        self.required = set(required)
        self.additional_definitions = additional_definitions


def load_data(params, seed):
    train_path = candle.fetch_file(params["data_url"] + params["train_data"], "Pilot1")
    test_path = candle.fetch_file(params["data_url"] + params["test_data"], "Pilot1")
    return candle.load_csv_data(
        train_path,
        test_path,
        x_cols=None,
        y_cols=["cancer_type"],
        drop_cols=["case_id"],
        onehot_cols=["cancer_type"],
        n_cols=params["feature_subsample"],
        shuffle=params["shuffle"],
        scaling=params["scaling"],
        dtype=params["data_type"],
        validation_split=params["val_split"],
        return_dataframe=False,
        return_header=True,
        seed=seed,
    )

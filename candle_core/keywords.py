"""CANDLE's standard keywords, accepted by every benchmark (a core plugin).

Names, abbreviations and types follow CANDLE's ``parsing_utils``; where CANDLE had a known
defect we differ on purpose: ``scaling`` offers ``maxabs`` (not ``minabs``), ``pool`` may be a
list (NT3 gives one), ``rng_seed`` is an integer, and the optimizer keywords carry Keras 3's
defaults so that every backend starts from the same values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from candle_core.device import PRECISIONS, device_text
from candle_core.hookspecs import hookimpl
from candle_core.model import INITIALIZERS
from candle_core.parameters.keyword import str2bool
from candle_core.parameters.registry import KeywordRegistry

ORIGIN = "candle standard keywords"

BASIC = [
    {"name": "config_file", "type": str, "help": "model file replacing the benchmark's default model file"},
    {
        "name": "data_type",
        "abv": "d",
        "type": str,
        "default": "f32",
        "choices": ["f16", "f32", "f64"],
        "help": "floating-point precision",
    },
    {"name": "rng_seed", "abv": "r", "type": int, "default": 7102, "help": "random number generator seed"},
    {"name": "train_bool", "type": str2bool, "default": True, "help": "train the model"},
    {"name": "eval_bool", "type": str2bool, "help": "evaluate the model (inference)"},
    {
        "name": "timeout",
        "type": int,
        "default": -1,
        "help": "seconds allowed for training; stops cleanly at an epoch end (-1: no limit)",
    },
    {"name": "gpus", "nargs": "+", "type": int, "help": "IDs of the GPUs to use (ranks of a node take them in turn)"},
    {
        "name": "profiling",
        "abv": "p",
        "type": str2bool,
        "default": False,
        "help": "profile the first epoch with the framework's profiler; the trace goes in <run_dir>/profile",
    },
]

INPUT_OUTPUT = [
    {"name": "save_path", "abv": "s", "type": str, "help": "file path to save model snapshots"},
    {"name": "model_name", "type": str, "help": "model name, used to build data and output paths"},
    {"name": "home_dir", "type": str, "help": "home directory"},
    {"name": "train_data", "type": str, "help": "training data file name"},
    {"name": "val_data", "type": str, "help": "validation data file name"},
    {"name": "test_data", "type": str, "help": "test data file name"},
    {
        "name": "output_dir",
        "type": str,
        "help": "output folder under <model_name>/ (default Output); an absolute path replaces the output root",
    },
    {"name": "data_url", "type": str, "help": "URL of the folder holding the data files"},
    {"name": "data_dir", "type": str, "help": "data folder (default: $CANDLE_DATA_DIR/<model_name>/Data)"},
    {"name": "experiment_id", "type": str, "default": "EXP000", "help": "experiment identifier (output folder)"},
    {"name": "run_id", "type": str, "default": "RUN000", "help": "run identifier (output folder)"},
]

LOGGING = [
    {"name": "verbose", "abv": "v", "type": str2bool, "default": False, "help": "log INFO messages to standard error"},
    {
        "name": "logfile",
        "abv": "l",
        "type": str,
        "help": "also log everything (DEBUG and up) to this file; a relative name lies in the run directory",
    },
    {
        "name": "tensorboard",
        "type": str2bool,
        "default": True,
        "help": "write TensorBoard event files in <run_dir>/tensorboard (needs the tensorboard package)",
    },
]

DATA_PREPROCESS = [
    {
        "name": "scaling",
        "type": str,
        "choices": ["none", "std", "minmax", "maxabs"],
        "help": "feature scaling: none, std (zero mean, unit variance), minmax (to [0,1]), maxabs (to [-1,1])",
    },
    {
        "name": "shuffle",
        "type": str2bool,
        "help": "shuffle the training rows' order every epoch (default: yes, as Keras' fit); false keeps their order",
    },
    {"name": "feature_subsample", "type": int, "help": "number of features to sample at random (0: all features)"},
]

MODEL = [
    {"name": "dense", "nargs": "+", "type": int, "help": "units of the fully connected layers"},
    {
        "name": "conv",
        "nargs": "+",
        "type": int,
        "help": "convolution layers as triples: filters, kernel length, stride, ...",
    },
    {"name": "locally_connected", "type": str2bool, "help": "locally connected layers instead of convolutions"},
    {"name": "activation", "abv": "a", "type": str, "help": "activation of the inner layers (relu, tanh, ...)"},
    {"name": "out_activation", "type": str, "help": "activation of the output layer (softmax, linear, ...)"},
    {"name": "lstm_size", "nargs": "+", "type": int, "help": "LSTM state size per layer"},
    {"name": "recurrent_dropout", "type": float, "help": "recurrent dropout rate"},
    {"name": "dropout", "type": float, "help": "dropout rate of the fully connected layers"},
    {"name": "pool", "nargs": "+", "type": int, "help": "pooling length (one per convolution layer, or one for all)"},
    {"name": "batch_normalization", "type": str2bool, "help": "use batch normalization"},
    {"name": "loss", "type": str, "help": "loss function (categorical_crossentropy, mse, ...)"},
    {"name": "optimizer", "type": str, "help": "optimizer (sgd, adam, rmsprop, adagrad, adadelta)"},
    {"name": "metrics", "nargs": "+", "type": str, "help": "metrics to report (accuracy, mae, r2, ...)"},
]

TRAINING = [
    {"name": "epochs", "abv": "e", "type": int, "help": "number of training epochs"},
    {"name": "batch_size", "abv": "z", "type": int, "help": "batch size"},
    {"name": "learning_rate", "abv": "lr", "type": float, "help": "learning rate (None: the optimizer's default)"},
    {"name": "early_stop", "type": str2bool, "help": "stop when the monitored metric stops improving"},
    {"name": "momentum", "type": float, "default": 0.0, "help": "SGD momentum (Keras default 0)"},
    {"name": "nesterov", "type": str2bool, "default": False, "help": "Nesterov momentum for SGD"},
    {"name": "epsilon", "type": float, "default": 1e-7, "help": "optimizer epsilon (Keras 3 default 1e-7)"},
    {"name": "rho", "type": float, "default": 0.9, "help": "RMSprop/Adadelta decay rate (Keras default 0.9)"},
    {"name": "beta_1", "type": float, "default": 0.9, "help": "Adam beta_1"},
    {"name": "beta_2", "type": float, "default": 0.999, "help": "Adam beta_2"},
    {"name": "decay", "type": float, "help": "learning-rate decay per update (None: no decay)"},
    {"name": "clipnorm", "type": float, "help": "clip gradients to this norm"},
    {"name": "clipvalue", "type": float, "help": "clip gradients to this absolute value"},
    {"name": "reduce_lr", "type": str2bool, "help": "reduce the learning rate when the metric plateaus"},
    {
        "name": "initialization",
        "type": str,
        "choices": list(INITIALIZERS),
        "help": "kernel initializer (Keras names; biases start at zero)",
    },
    {"name": "val_split", "type": float, "help": "fraction of the data used for validation"},
    {"name": "train_steps", "type": int, "help": "training batches per epoch, if nonzero"},
    {"name": "val_steps", "type": int, "help": "validation batches per epoch (the first rows), if nonzero"},
    {"name": "test_steps", "type": int, "help": "test batches (the first rows), if nonzero"},
    {"name": "train_samples", "type": int, "help": "use only the first N training rows, if nonzero"},
    {"name": "val_samples", "type": int, "help": "use only the first N validation rows, if nonzero"},
]

CYCLIC_LEARNING_RATE = [
    {
        "name": "clr_flag",
        "type": str2bool,
        "help": "cyclic learning rate, set before every batch (needs the clr_* keywords)",
    },
    {
        "name": "clr_mode",
        "type": str,
        "choices": ["trng1", "trng2", "exp"],
        "help": "cyclic mode: trng1 (triangular), trng2 (amplitude halved each cycle), exp (times gamma**batch)",
    },
    {"name": "clr_base_lr", "type": float, "help": "lower bound of the cyclic learning rate"},
    {"name": "clr_max_lr", "type": float, "help": "upper bound of the cyclic learning rate"},
    {"name": "clr_gamma", "type": float, "help": "gamma of the exp cyclic mode (default 1)"},
    {
        "name": "clr_step_size",
        "type": int,
        "default": 2000,
        "help": "batches in half a cycle (candle's own; CANDLE fixes 2000)",
    },
]

CHECKPOINT = [
    {
        "name": "ckpt_restart_mode",
        "type": str,
        "default": "auto",
        "choices": ["off", "auto", "required"],
        "help": "restart from a checkpoint: off, auto (if one exists), required",
    },
    {
        "name": "ckpt_checksum",
        "type": str2bool,
        "default": True,
        "help": "sha256 of every checkpoint file on write, verified on restart (a damaged one is skipped)",
    },
    {"name": "ckpt_skip_epochs", "type": int, "default": 0, "help": "epochs to run before saving checkpoints"},
    {"name": "ckpt_directory", "type": str, "help": "checkpoint folder (default: <run_dir>/ckpts)"},
    {"name": "ckpt_save_best", "type": str2bool, "default": True, "help": "keep the best model"},
    {"name": "ckpt_save_best_metric", "type": str, "default": "val_loss", "help": "metric deciding the best model"},
    {
        "name": "ckpt_save_weights_only",
        "type": str2bool,
        "default": False,
        "help": "save weights without optimizer state",
    },
    {"name": "ckpt_save_interval", "type": int, "default": 0, "help": "save a checkpoint every N epochs (0: never)"},
    {
        "name": "ckpt_keep_mode",
        "type": str,
        "default": "linear",
        "choices": ["linear", "exponential"],
        "help": "which older checkpoints to keep",
    },
    {"name": "ckpt_keep_limit", "type": int, "default": 1000000, "help": "number of checkpoints to keep"},
]

# CANDLE's cross-validation and UQ partitions (candle_core.splits)
PARTITIONS = [
    {
        "name": "n_fold",
        "type": int,
        "default": 1,
        "help": "k-fold cross-validation: each fold a run in <run_dir>/fold_<k>, history averaged (1: no folds)",
    },
    {"name": "fold", "type": int, "help": "with n_fold: run only this fold (0-based), in the run folder itself"},
    {"name": "uq_train_fr", "type": float, "help": "UQ split: fraction of the rows for training"},
    {"name": "uq_valid_fr", "type": float, "help": "UQ split: fraction of the rows for validation"},
    {"name": "uq_test_fr", "type": float, "help": "UQ split: fraction of the rows for testing (0: keep the test set)"},
    {"name": "uq_train_bks", "type": int, "help": "UQ split: number of blocks for training"},
    {"name": "uq_valid_bks", "type": int, "help": "UQ split: number of blocks for validation"},
    {"name": "uq_test_bks", "type": int, "help": "UQ split: number of blocks for testing (0: keep the test set)"},
    {"name": "uq_train_vec", "nargs": "+", "type": int, "help": "UQ split: block numbers for training"},
    {"name": "uq_valid_vec", "nargs": "+", "type": int, "help": "UQ split: block numbers for validation"},
    {"name": "uq_test_vec", "nargs": "*", "type": int, "help": "UQ split: block numbers for testing"},
]

# candle's own: how a run trains (not in CANDLE's parser)
RUN = [
    {"name": "backend", "type": str, "default": "torch", "help": "training backend (see 'candle plugins')"},
    {
        "name": "data",
        "type": str,
        "default": "real",
        "choices": ["real", "synthetic"],
        "help": "real: fetch the benchmark's data (cached); synthetic: a deterministic data set of the same shape",
    },
    {
        "name": "precision",
        "type": str,
        "default": "fp32",
        "choices": list(PRECISIONS),
        "help": "fp32 (TF32 off), tf32 (TensorFloat-32 on GPUs), bf16 or fp16 mixed precision (float32 weights)",
    },
    {
        "name": "device",
        "type": device_text,
        "default": "auto",
        "help": "auto (this rank's GPU when one is visible, else the CPU), cpu, cuda or cuda:N",
    },
    {
        "name": "plots",
        "type": str2bool,
        "default": True,
        "help": "draw learning_curve.png (search trials: off unless given)",
    },
    {
        "name": "comm",
        "type": str,
        "default": "none",
        "help": "data-parallel training under mpiexec through this communicator: ring, mpi, horovod (none: 1 process)",
    },
    {
        "name": "comm_compression",
        "type": str,
        "default": "none",
        "choices": ["none", "fp16"],
        "help": "ring communicator: send gradients as float16 (accumulated in float32)",
    },
    {
        "name": "comm_timeout",
        "type": float,
        "default": 600.0,
        "help": "seconds a rank waits for its peers in a collective before the job fails (a dead peer)",
    },
    {
        "name": "bootstrap_seed",
        "type": int,
        "help": "train on a bootstrap resample of the training rows drawn with this seed (candle uq bootstrap)",
    },
    {"name": "monitor", "type": str, "default": "val_loss", "help": "metric watched by early_stop and reduce_lr"},
    {"name": "min_delta", "type": float, "default": 0.0, "help": "smallest change of monitor that counts as progress"},
    {"name": "early_stop_patience", "type": int, "default": 10, "help": "epochs without progress before early_stop"},
    {"name": "reduce_lr_patience", "type": int, "default": 10, "help": "epochs without progress before reduce_lr"},
    {"name": "reduce_lr_factor", "type": float, "default": 0.1, "help": "factor applied to the learning rate"},
    {"name": "min_lr", "type": float, "default": 0.0, "help": "reduce_lr never goes below this"},
]

STANDARD_KEYWORDS = (
    BASIC
    + INPUT_OUTPUT
    + LOGGING
    + DATA_PREPROCESS
    + MODEL
    + TRAINING
    + CYCLIC_LEARNING_RATE
    + CHECKPOINT
    + PARTITIONS
    + RUN
)

# Standard keywords candle itself reads as one value. A model file may give any other one-value
# keyword (the layer description, or a benchmark's own) a list: it passes through, as in CANDLE.
LAYER_KEYWORDS = frozenset(d["name"] for d in MODEL) - {"loss", "optimizer"}
READ_BY_CANDLE = frozenset(d["name"] for d in STANDARD_KEYWORDS) - LAYER_KEYWORDS

# Standard keywords accepted so that CANDLE model files and scripts keep working, which candle's
# own training does not use; a native run warns when one is given a value other than its default.
NO_EFFECT = {
    "train_bool": "candle always trains the model",
    "eval_bool": "candle evaluates on the validation (and test) rows after every epoch anyway",
    "val_data": "the benchmark names its own validation data",
    "save_path": "models go in <run_dir>/model, checkpoints in ckpt_directory",
    "home_dir": "candle places its folders with CANDLE_DATA_DIR and CANDLE_OUTPUT_DIR",
    "lstm_size": "no benchmark of candle's has an LSTM layer",
    "recurrent_dropout": "no benchmark of candle's has an LSTM layer",
}


# Read by candle's training loop only: a benchmark that trains in its own run() does without them.
LOOP_KEYWORDS = (
    "shuffle",
    "profiling",
    "clr_flag",
    "train_steps",
    "val_steps",
    "test_steps",
    "train_samples",
    "val_samples",
)


def no_effect_warnings(values: Mapping[str, Any], own_training: str | None = None) -> list[str]:
    """One line per keyword of ``NO_EFFECT`` given a value other than its default (false counts as
    the default of a switch without one); with
    ``own_training`` (the name of a benchmark that trains in its own run()), also per
    ``LOOP_KEYWORDS`` keyword so given."""
    defaults = {d["name"]: d.get("default") for d in STANDARD_KEYWORDS}
    reasons = {name: f"accepted for CANDLE compatibility; {why}" for name, why in NO_EFFECT.items()}
    if own_training:
        reasons |= {
            name: f"benchmark {own_training} trains in its own run(), not candle's loop" for name in LOOP_KEYWORDS
        }
    return [
        f"{name} = {values[name]!r} has no effect here: {why}"
        for name, why in reasons.items()
        if values.get(name) not in (None, defaults[name]) and not (values[name] is False and defaults[name] is None)
    ]


# The range of every number keyword (for a list keyword: of each element), checked where types are.
RANGES = {
    "rng_seed": "[0, 4294967295]",
    "timeout": "[-1, inf)",
    "feature_subsample": "[0, inf)",
    "dense": "[1, inf)",
    "conv": "[0, inf)",
    "lstm_size": "[1, inf)",
    "recurrent_dropout": "[0, 1)",
    "dropout": "[0, 1)",
    "pool": "[1, inf)",
    "epochs": "[1, inf)",
    "batch_size": "[1, inf)",
    "learning_rate": "(0, inf)",
    "momentum": "[0, 1]",
    "epsilon": "(0, inf)",
    "rho": "[0, 1)",
    "beta_1": "[0, 1)",
    "beta_2": "[0, 1)",
    "decay": "[0, inf)",
    "clipnorm": "(0, inf)",
    "clipvalue": "(0, inf)",
    "val_split": "[0, 1)",
    "train_steps": "[0, inf)",
    "val_steps": "[0, inf)",
    "test_steps": "[0, inf)",
    "train_samples": "[0, inf)",
    "val_samples": "[0, inf)",
    "clr_base_lr": "(0, inf)",
    "clr_max_lr": "(0, inf)",
    "clr_gamma": "(0, 1]",
    "ckpt_skip_epochs": "[0, inf)",
    "ckpt_save_interval": "[0, inf)",
    "ckpt_keep_limit": "[1, inf)",
    "comm_timeout": "(0, inf)",
    "bootstrap_seed": "[0, 4294967295]",
    "min_delta": "[0, inf)",
    "early_stop_patience": "[1, inf)",
    "reduce_lr_patience": "[1, inf)",
    "reduce_lr_factor": "(0, 1)",
    "min_lr": "[0, inf)",
    "gpus": "[0, inf)",
    "clr_step_size": "[1, inf)",
    "n_fold": "[1, 1000]",
    "fold": "[0, 999]",
    "uq_train_fr": "[0, 1]",
    "uq_valid_fr": "[0, 1]",
    "uq_test_fr": "[0, 1]",
    "uq_train_bks": "[0, inf)",
    "uq_valid_bks": "[0, inf)",
    "uq_test_bks": "[0, inf)",
    "uq_train_vec": "[0, inf)",
    "uq_valid_vec": "[0, inf)",
    "uq_test_vec": "[0, inf)",
}
for _definition in STANDARD_KEYWORDS:
    if _definition["name"] in RANGES:
        _definition["bounds"] = RANGES[_definition["name"]]


@hookimpl(tryfirst=True)
def candle_add_parameters(registry: KeywordRegistry) -> None:
    registry.add(STANDARD_KEYWORDS, origin=ORIGIN)

"""Small helpers of candle_lib: booleans, paths, logging, seeds, threads, Keras defaults."""

from __future__ import annotations

import logging
import os
import random
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from candle.file_utils import get_file
from candle_core.errors import warn_user
from candle_core.model import OptimizerSpec
from candle_core.parameters.keyword import str2bool as str2bool  # candle_lib's name, candle_core's rules

KERAS_MODULES = ("keras", "tensorflow")


def framework() -> str:
    """``keras`` or ``torch``: the framework the script imported first (candle_lib's rule), else the
    ``--backend`` on the command line, else ``$CANDLE_BACKEND``, else Keras when it is installed."""
    for module in sys.modules:
        if module in KERAS_MODULES:
            return "keras"
        if module == "torch":
            return "torch"
    argv = sys.argv[1:]
    for index, argument in enumerate(argv):
        if argument.startswith("--backend="):
            return "torch" if argument.split("=", 1)[1] == "torch" else "keras"
        if argument == "--backend" and index + 1 < len(argv):
            return "torch" if argv[index + 1] == "torch" else "keras"
    chosen = os.environ.get("CANDLE_BACKEND")
    if chosen:
        return "torch" if chosen == "torch" else "keras"
    import importlib.util

    return "keras" if importlib.util.find_spec("keras") else "torch"


def optimizer_spec(optimizer: str, lr: float, kerasDefaults: Mapping[str, Any]) -> Any:
    """candle's backend-neutral description of the optimizer ``build_optimizer`` and
    ``build_pytorch_optimizer`` build (the one ``candle run`` builds); unknown names refused."""

    OptimizerSpec.from_params({"optimizer": str(optimizer).lower(), "learning_rate": lr})  # refuses unknown names
    return OptimizerSpec(
        name=str(optimizer).lower(),
        learning_rate=float(lr),
        momentum=float(kerasDefaults.get("momentum_sgd", 0.0)),
        nesterov=bool(kerasDefaults.get("nesterov_sgd", False)),
        epsilon=float(kerasDefaults.get("epsilon", 1e-7)),
        rho=float(kerasDefaults.get("rho", 0.9)),
        beta_1=float(kerasDefaults.get("beta_1", 0.9)),
        beta_2=float(kerasDefaults.get("beta_2", 0.999)),
        decay=float(kerasDefaults.get("decay_lr", 0.0)),
    )


def numeric_logs(logs: Any) -> dict[str, float]:
    """The entries of a framework's epoch logs that are numbers, as floats."""
    numbers = {}
    for key, value in dict(logs or {}).items():
        try:
            numbers[key] = float(value)
        except (TypeError, ValueError):
            continue
    return numbers


def fetch_file(link: str, subdir: str, unpack: bool = False, md5_hash: str | None = None, untar: bool = False) -> str:
    """Download ``link`` into ``$CANDLE_DATA_DIR/<subdir>`` unless cached (``get_file``); ``untar``
    is the older name of ``unpack``."""

    return get_file(os.path.basename(link), link, unpack=unpack or untar, md5_hash=md5_hash, cache_subdir=subdir)


def verify_path(path: str) -> None:
    """Create the folder that would hold ``path`` (a file path), if missing."""
    folder = os.path.dirname(str(path))
    if folder:
        os.makedirs(folder, exist_ok=True)


def set_up_logger(
    logfile: str,
    logger: logging.Logger,
    verbose: bool = False,
    fmt_line: str = "[%(asctime)s %(process)d] %(message)s",
    fmt_date: str = "%Y-%m-%d %H:%M:%S",
) -> None:
    """Log everything to ``logfile`` and INFO (DEBUG with ``verbose``) to standard output."""
    verify_path(logfile)
    to_file = logging.FileHandler(logfile)
    to_file.setFormatter(logging.Formatter(fmt_line, datefmt=fmt_date))
    to_file.setLevel(logging.DEBUG)
    to_screen = logging.StreamHandler(sys.stdout)
    to_screen.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.setLevel(logging.DEBUG)
    logger.addHandler(to_file)
    logger.addHandler(to_screen)


def keras_default_config() -> dict[str, Any]:
    """The optimizer and initializer defaults both frameworks use (Keras 3's: epsilon is 1e-7,
    where candle_lib wrote Keras 2's 1e-8)."""
    return {
        "decay_lr": 0.0,
        "epsilon": 1e-7,
        "rho": 0.9,
        "momentum_sgd": 0.0,
        "nesterov_sgd": False,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "decay_schedule_lr": 0.004,
        "minval_uniform": -0.05,
        "maxval_uniform": 0.05,
        "mean_normal": 0.0,
        "stddev_normal": 0.05,
    }


def seed_python_and_numpy(seed: int) -> None:
    """Seed Python's and numpy's global generators (and fix string hashing for child processes)."""
    os.environ["PYTHONHASHSEED"] = "0"
    random.seed(seed)
    np.random.seed(seed)


def set_seed(seed: int) -> None:
    """Seed Python, numpy and the frameworks the script has loaded (Keras/TensorFlow, torch)."""
    seed_python_and_numpy(seed)
    if "keras" in sys.modules or "tensorflow" in sys.modules or framework() == "keras":
        import keras

        keras.utils.set_random_seed(seed)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)


def _thread_counts() -> tuple[int, int] | None:
    intra, inter = os.environ.get("NUM_INTRA_THREADS"), os.environ.get("NUM_INTER_THREADS")
    return (int(intra), int(inter)) if intra and inter else None


def set_torch_threads() -> None:
    """torch's thread pools from ``NUM_INTRA_THREADS`` / ``NUM_INTER_THREADS``, when both are set."""
    counts = _thread_counts()
    if counts is None:
        return
    import torch

    torch.set_num_threads(counts[0])
    try:
        torch.set_num_interop_threads(counts[1])
    except RuntimeError:  # torch allows it once, before any parallel work
        warn_user("torch's inter-op pool is already running; NUM_INTER_THREADS takes effect only before its first use")


def set_parallelism_threads() -> None:
    """Thread counts from ``NUM_INTRA_THREADS`` / ``NUM_INTER_THREADS``, when both are set, for the
    frameworks loaded (TensorFlow's intra/inter-op pools, torch's pools)."""
    counts = _thread_counts()
    if counts is None:
        return
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(counts[0])
            tf.config.threading.set_inter_op_parallelism_threads(counts[1])
        except RuntimeError:  # TensorFlow fixes its pools when it first runs
            warn_user(
                "TensorFlow already runs; NUM_INTRA_THREADS/NUM_INTER_THREADS take effect only before its first use"
            )
    if "torch" in sys.modules:
        set_torch_threads()

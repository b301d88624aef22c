"""Where data and outputs live, the CANDLE way.

* data:    ``$CANDLE_DATA_DIR/<model_name>/Data``
* outputs: ``${CANDLE_OUTPUT_DIR:-$CANDLE_DATA_DIR}/<model_name>/<output_dir or Output>/<experiment_id>/<run_id>``

As in CANDLE, an absolute ``output_dir`` replaces everything before ``<experiment_id>``.
Unlike CANDLE, an unset ``CANDLE_DATA_DIR`` is not an error: it defaults to ``~/.candle``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULT_DATA_ROOT = "~/.candle"


def data_root() -> Path:
    return Path(os.environ.get("CANDLE_DATA_DIR") or DEFAULT_DATA_ROOT).expanduser().absolute()


def output_root() -> Path:
    configured = os.environ.get("CANDLE_OUTPUT_DIR")
    return Path(configured).expanduser().absolute() if configured else data_root()


def describe_roots() -> str:
    """Say which environment variables decided the roots (for ``candle params``)."""
    data = "$CANDLE_DATA_DIR" if os.environ.get("CANDLE_DATA_DIR") else f"{DEFAULT_DATA_ROOT} ($CANDLE_DATA_DIR unset)"
    out = "$CANDLE_OUTPUT_DIR" if os.environ.get("CANDLE_OUTPUT_DIR") else data
    return f"data root {data}, output root {out}"


def data_dir(params: Mapping[str, Any]) -> Path:
    return data_root() / str(params["model_name"]) / "Data"


def run_dir(params: Mapping[str, Any]) -> Path:
    common = params.get("output_dir") or "Output"
    base = output_root() / str(params["model_name"]) / str(common)
    return Path(os.path.normpath(base / str(params["experiment_id"]) / str(params["run_id"])))

"""BCW: breast cancer Wisconsin (diagnostic), a real cancer data set that ships with scikit-learn.

569 tumours, 30 features of their cell nuclei, malignant or benign. A small dropout MLP
(dense widths, each with dropout) classifies them; it is candle's cheap real-data benchmark for
uncertainty quantification (``candle infer bcw --run RUN_DIR --mc-samples N``).
Features are standardized with the training rows' statistics; ``val_split`` of the rows
(seeded by ``rng_seed``) are the validation set.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from candle_core import Benchmark, hookimpl
from candle_core.data.dataset import Dataset
from candle_core.data.tabular import Scaler, one_hot, split_validation
from candle_core.errors import CandleError
from candle_core.model import Dense, Dropout, ModelSpec, OptimizerSpec, as_list

ADDITIONAL_DEFINITIONS = [
    {"name": "model_name", "type": str, "default": "bcw", "help": "model name"},
    {"name": "classes", "type": int, "default": 2, "help": "number of classes"},
]
REQUIRED = ["dense", "activation", "out_activation", "loss", "optimizer", "epochs", "batch_size", "dropout", "classes"]


def load(params: Mapping[str, Any]):
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError:
        raise CandleError("benchmark bcw needs scikit-learn: pip install 'candle[search]'") from None
    data = load_breast_cancer()
    x_train, y_train, x_val, y_val = split_validation(
        data.data.astype("float32"), data.target, float(params.get("val_split") or 0.3), int(params["rng_seed"])
    )
    scaler = Scaler("std").fit(x_train)
    classes = int(params["classes"])
    return Dataset(
        scaler.transform(x_train).astype("float32"),
        one_hot(y_train, classes),
        scaler.transform(x_val).astype("float32"),
        one_hot(y_val, classes),
        meta={"source": "sklearn.datasets.load_breast_cancer", "classes": list(data.target_names)},
    )


class BCW(Benchmark):
    name = "bcw"
    description = "BCW: breast cancer Wisconsin (scikit-learn), dropout MLP, for uncertainty quantification"
    additional_definitions = ADDITIONAL_DEFINITIONS
    required = REQUIRED

    def input_shape(self, params: Mapping[str, Any]) -> tuple[int, ...]:
        return (30,)

    def load_data(self, params: Mapping[str, Any]):
        return load(params)

    def build_model(self, params: Mapping[str, Any], input_shape: tuple[int, ...]):
        layers: list = []
        for units in as_list(params["dense"]):
            layers += [Dense(units, activation=params["activation"]), Dropout(params["dropout"])]
        layers.append(Dense(int(params["classes"]), activation=params["out_activation"]))
        return ModelSpec(
            name="bcw",
            input_shape=input_shape,
            layers=layers,
            loss=params["loss"],
            optimizer=OptimizerSpec.from_params(params),
            metrics=as_list(params.get("metrics")),
            initializer=params.get("initialization") or "glorot_uniform",
        )


@hookimpl
def candle_benchmarks() -> list[Benchmark]:
    return [BCW(Path(__file__).parent, "bcw_default_model.txt", "torch")]

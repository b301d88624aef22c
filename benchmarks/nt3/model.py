"""NT3's network, written once: CANDLE's nt3_baseline_keras2 layer by layer.

conv triples (filters, kernel, stride) each followed by the activation and a max-pool from
``pool``; Flatten; each ``dense`` width with activation and dropout; the output layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from candle_core.errors import CandleError
from candle_core.model import (
    Conv1D,
    Dense,
    Dropout,
    Flatten,
    LocallyConnected1D,
    MaxPool1D,
    ModelSpec,
    OptimizerSpec,
    Shape,
    as_list,
)


def nt3_layers(params: Mapping[str, Any], input_shape: Shape) -> list:
    conv = as_list(params["conv"])
    if len(conv) % 3:
        raise CandleError(f"conv must hold (filters, kernel, stride) triples, got {len(conv)} numbers: {conv}")
    pools = as_list(params.get("pool"))
    layer_type = LocallyConnected1D if params.get("locally_connected") else Conv1D
    layers: list = []
    for i in range(0, len(conv), 3):
        filters, kernel, stride = conv[i : i + 3]
        if filters <= 0 or kernel <= 0 or stride <= 0:
            break
        layers.append(layer_type(filters, kernel, stride, activation=params["activation"]))
        if pools:
            layers.append(MaxPool1D(pools[min(i // 3, len(pools) - 1)]))
    layers.append(Flatten())
    for units in as_list(params["dense"]):
        if units:
            layers.append(Dense(units, activation=params["activation"]))
            if params.get("dropout"):
                layers.append(Dropout(params["dropout"]))
    layers.append(Dense(params["classes"], activation=params["out_activation"]))
    return layers


def nt3_model(params: Mapping[str, Any], input_shape: Shape) -> ModelSpec:
    return ModelSpec(
        name="nt3",
        input_shape=input_shape,
        layers=nt3_layers(params, input_shape),
        loss=params["loss"],
        optimizer=OptimizerSpec.from_params(params),
        metrics=as_list(params.get("metrics")),
        initializer=params.get("initialization") or "glorot_uniform",
    )

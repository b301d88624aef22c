"""P3B1's network, written once: CANDLE's p3b1_baseline_keras2 as one multi-head model.

Shared layers (``shared_nnet_spec`` widths), then one branch per task (its ``ind_nnet_spec``
widths, then ``out_activation`` over the task's classes); every dense layer has the activation
and, when ``dropout`` is set, dropout after it. CANDLE builds one Keras model per task over the
shared layers and alternates them epoch by epoch; candle trains the heads together on batches
that mix the tasks' rows (the loss is summed over heads; a row counts only for its own task).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from candle_core.errors import CandleError
from candle_core.model import Branches, Dense, Dropout, ModelSpec, OptimizerSpec, Shape, as_list


def _dense_stack(params: Mapping[str, Any], widths: Sequence[int]) -> list:
    layers: list = []
    for units in widths:
        layers.append(Dense(int(units), activation=params["activation"]))
        if params.get("dropout"):
            layers.append(Dropout(params["dropout"]))
    return layers


def p3b1_model(params: Mapping[str, Any], input_shape: Shape, names: Sequence[str]) -> ModelSpec:
    individual = params["ind_nnet_spec"]
    classes = as_list(params["classes"])
    if not (len(individual) == len(classes) == len(names)):
        raise CandleError(
            f"ind_nnet_spec has {len(individual)} task stacks, classes {len(classes)} counts and "
            f"feature_names {len(names)} names; give each task one of each"
        )
    heads = tuple(
        (*_dense_stack(params, as_list(widths)), Dense(int(n), activation=params["out_activation"]))
        for widths, n in zip(individual, classes, strict=True)
    )
    return ModelSpec(
        name="p3b1",
        input_shape=input_shape,
        layers=[*_dense_stack(params, as_list(params["shared_nnet_spec"])), Branches(heads, names=tuple(names))],
        loss=params["loss"],
        optimizer=OptimizerSpec.from_params(params),
        metrics=[*as_list(params.get("metrics")), "macro_f1", "micro_f1"],
        initializer=params.get("initialization") or "glorot_uniform",
    )

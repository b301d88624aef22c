"""P1B1's networks, written once: CANDLE's p1b1_baseline_keras2 layer by layer.

Encoder: each ``dense`` width (activation, then batch normalization and dropout when asked).
``ae``: a ``latent_dim`` dense layer with the activation. ``vae``: a Gaussian latent layer (mean
and log-variance, sampling with ``epsilon_std``), whose KL divergence enters the loss divided by
the number of genes, and binary cross-entropy as reconstruction loss, as CANDLE's ``vae_loss``.
``cvae``: the same, with the one-hot cancer type appended to the encoder's input and to the
latent sample. Decoder: the ``dense`` widths reversed, then one sigmoid output per gene.
The latent layer is the network's embedding: each run plots the validation profiles in it,
coloured by cancer type (``latent.png``), as CANDLE's P1B1 does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from candle_core.errors import CandleError
from candle_core.model import (
    BatchNorm,
    Branches,
    Dense,
    Dropout,
    GaussianLatent,
    ModelSpec,
    OptimizerSpec,
    Shape,
    Slice,
    as_list,
)


def _stack(params: Mapping[str, Any], widths: list[int]) -> list:
    layers: list = []
    for units in widths:
        if units > 0:
            layers.append(Dense(units, activation=params["activation"]))
            if params.get("batch_normalization"):
                layers.append(BatchNorm())
            if params.get("dropout"):
                layers.append(Dropout(params["dropout"]))
    return layers


def p1b1_model(params: Mapping[str, Any], input_shape: Shape, genes: int) -> ModelSpec:
    """The autoencoder ``params['model']`` for inputs of ``input_shape``, ``genes`` of which are the
    profile (a cvae's remaining inputs are its condition)."""
    kind = params.get("model") or "ae"
    if params.get("alpha_dropout"):
        raise CandleError("alpha_dropout is not supported by candle's P1B1; use dropout")
    widths = as_list(params.get("dense"))
    encoder = _stack(params, widths)
    latent_dim = int(params["latent_dim"])
    latent = (len(encoder), latent_dim)  # (layer, columns) of the latent space, plotted as latent.png
    if kind == "ae":
        layers = [*encoder, Dense(latent_dim, activation=params["activation"])]
        loss = params["loss"]
    else:
        epsilon_std = float(params.get("epsilon_std") or 1.0)
        layers = [*encoder, GaussianLatent(latent_dim, epsilon_std, kl_weight=1.0 / genes)]
        loss = "binary_crossentropy"
        if kind == "cvae":
            conditions = input_shape[0] - genes
            if conditions < 1:
                raise CandleError(f"a cvae needs condition columns after the {genes} genes; input is {input_shape}")
            layers = [Branches((tuple(layers), (Slice(genes, input_shape[0]),)))]
            latent = (0, latent_dim)  # the latent sample comes first, the condition after it
    layers += [*_stack(params, list(reversed(widths))), Dense(genes, activation="sigmoid")]
    return ModelSpec(
        name=f"p1b1_{kind}",
        input_shape=input_shape,
        layers=layers,
        loss=loss,
        optimizer=OptimizerSpec.from_params(params),
        metrics=["corr", "mse"],
        initializer=params.get("initialization") or "glorot_uniform",
        embedding=latent,
    )

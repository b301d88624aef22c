"""The two networks of CANDLE's MNIST example, written once.

``mlp`` (mnist_mlp): two dense layers of 512 with the activation, each followed by dropout 0.2.
``cnn`` (mnist_cnn): 3x3 convolutions of 32 and 64 filters (relu), 2x2 max-pooling, dropout
0.25, a dense layer of 128 (relu) and dropout 0.5. Both end in a softmax over the 10 digits.
CANDLE's CNN hard-codes Adadelta; here both take ``optimizer`` from the parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from candle_core.model import Conv2D, Dense, Dropout, Flatten, MaxPool2D, ModelSpec, OptimizerSpec, Shape


def mnist_model(params: Mapping[str, Any], input_shape: Shape) -> ModelSpec:
    kind = params.get("model") or "mlp"
    activation = params.get("activation") or "relu"
    if kind == "cnn":
        layers = [
            Conv2D(32, 3, activation="relu"),
            Conv2D(64, 3, activation="relu"),
            MaxPool2D(2),
            Dropout(0.25),
            Flatten(),
            Dense(128, activation="relu"),
            Dropout(0.5),
        ]
    else:
        layers = [Dense(512, activation=activation), Dropout(0.2), Dense(512, activation=activation), Dropout(0.2)]
    return ModelSpec(
        name=f"mnist_{kind}",
        input_shape=input_shape,
        layers=[*layers, Dense(10, activation="softmax")],
        loss="categorical_crossentropy",
        optimizer=OptimizerSpec.from_params(params),
        metrics=["accuracy"],
        initializer=params.get("initialization") or "glorot_uniform",
    )

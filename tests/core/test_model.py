import re

import pytest
from helpers import nt3_defaults

from candle_benchmarks.nt3.model import nt3_model
from candle_core import CandleError
from candle_core.model import Conv1D, Dense, Flatten, LocallyConnected1D, MaxPool1D, ModelSpec, OptimizerSpec

NT3 = nt3_defaults()


def test_nt3_reference_architecture():
    spec = nt3_model(NT3, (60483, 1))
    infos = spec.infos()
    assert [i.kind for i in infos] == [
        "Conv1D",
        "MaxPool1D",
        "Conv1D",
        "MaxPool1D",
        "Flatten",
        "Dense",
        "Dropout",
        "Dense",
        "Dropout",
        "Dense",
    ]
    assert infos[4].output_shape == (773760,)
    assert [i.n_params for i in infos if i.n_params] == [2688, 163968, 154752200, 4020, 42]
    assert spec.n_params == 154922918


def test_nt3_locally_connected_and_single_pool():
    spec = nt3_model({**NT3, "locally_connected": True, "pool": 2, "conv": [4, 5, 2]}, (101, 1))
    lc = spec.infos()[0]
    assert isinstance(lc.layer, LocallyConnected1D)
    assert lc.output_shape == (49, 4) and lc.weights == {"kernel": (49, 5, 4), "bias": (49, 4)}
    assert isinstance(spec.layers[1], MaxPool1D) and spec.layers[1].pool_size == 2


def test_nt3_rejects_broken_conv_list():
    with pytest.raises(CandleError, match="triples"):
        nt3_model({**NT3, "conv": [128, 20]}, (100, 1))


@pytest.mark.parametrize(
    "change, words",
    [
        ({"loss": "hinge"}, "loss 'hinge'"),
        ({"initializer": "zeros"}, "initialization 'zeros'"),
        ({"metrics": ["auc"]}, "metric 'auc'"),
        ({"layers": [Conv1D(4, 50), Flatten(), Dense(2)]}, "longer than its input"),
        ({"layers": [Flatten(), Dense(2, activation="relu6")]}, "activation 'relu6'"),
        ({"layers": [Flatten(), Conv1D(4, 3)]}, "(length, channels)"),
    ],
)
def test_impossible_models_are_clear_errors(change, words):
    base = dict(
        name="m", input_shape=(10, 1), layers=[Flatten(), Dense(2)], loss="mse", optimizer=OptimizerSpec("sgd", 0.01)
    )
    with pytest.raises(CandleError, match=words.replace("(", r"\(").replace(")", r"\)")):
        ModelSpec(**{**base, **change})


def test_optimizer_defaults_follow_keras():
    spec = OptimizerSpec.from_params({"optimizer": "adam", "learning_rate": None})
    assert (spec.learning_rate, spec.epsilon, spec.beta_1, spec.beta_2) == (0.001, 1e-7, 0.9, 0.999)
    assert OptimizerSpec.from_params({"optimizer": "sgd"}).learning_rate == 0.01
    with pytest.raises(CandleError, match="optimizer 'nadam'"):
        OptimizerSpec.from_params({"optimizer": "nadam"})


# ----------------------------------------------------------------- 2-D layers, branches, latent layers
def test_conv2d_and_pool2d_shapes_match_keras_mnist_cnn():
    from candle_core.model import Conv2D, MaxPool2D

    layers = [Conv2D(32, 3, activation="relu"), Conv2D(64, (3, 3)), MaxPool2D(2), Flatten(), Dense(128), Dense(10)]
    spec = ModelSpec("m", (28, 28, 1), layers, "mse", OptimizerSpec("sgd", 0.1))
    assert [info.output_shape for info in spec.infos()][:3] == [(26, 26, 32), (24, 24, 64), (12, 12, 64)]
    assert spec.n_params == 1_199_882  # Keras' mnist_cnn example
    strided = ModelSpec("m", (9, 11, 2), [Conv2D(4, (3, 5), strides=(2, 3))], "mse", OptimizerSpec("sgd", 0.1))
    assert strided.output_shape == (4, 3, 4)


def test_branches_concatenate_and_name_heads():
    from candle_core.model import Branches

    heads = Branches(((Dense(8), Dense(3)), (Dense(2),)), names=("site", "side"))
    spec = ModelSpec("m", (5,), [Dense(4), heads], "categorical_crossentropy", OptimizerSpec("sgd", 0.1))
    assert spec.output_shape == (5,)
    assert spec.heads == [("site", 0, 3), ("side", 3, 5)]
    assert spec.n_params == (5 * 4 + 4) + (4 * 8 + 8) + (8 * 3 + 3) + (4 * 2 + 2)
    assert sorted(spec.infos()[1].weights) == [
        "0.0.bias",
        "0.0.kernel",
        "0.1.bias",
        "0.1.kernel",
        "1.0.bias",
        "1.0.kernel",
    ]
    assert spec.train_metrics == []
    unnamed = ModelSpec("m", (5,), [Branches(((Dense(2),), (Dense(1),)))], "mse", OptimizerSpec("sgd", 0.1), ["mae"])
    assert unnamed.heads is None and unnamed.train_metrics == ["mae"]


def test_gaussian_latent_and_slice():
    from candle_core.model import GaussianLatent, Slice

    spec = ModelSpec("m", (12,), [Dense(6), GaussianLatent(2), Dense(12)], "mse", OptimizerSpec("sgd", 0.1))
    assert spec.infos()[1].n_params == 2 * (6 * 2 + 2)
    assert ModelSpec("m", (12,), [Slice(10, 12)], "mse", OptimizerSpec("sgd", 0.1)).output_shape == (2,)


@pytest.mark.parametrize(
    "layers, words",
    [
        ("slice", "does not fit"),
        ("branch_not_flat", "must end flat"),
        ("names", "2 branches but 1 names"),
        ("conv2d_on_flat", "(height, width, channels)"),
        ("bad_activation", "activation 'wiggle'"),
        ("embedding", "embedding (1, 3) names no layer output"),
    ],
)
def test_impossible_graphs_are_clear_errors(layers, words):
    from candle_core.model import Branches, Conv2D, Slice

    cases = {
        "slice": ((4,), [Slice(2, 6)]),
        "branch_not_flat": ((6, 1), [Branches(((Conv1D(2, 3),),))]),
        "names": ((4,), [Branches(((Dense(1),), (Dense(1),)), names=("a",))]),
        "conv2d_on_flat": ((16,), [Conv2D(2, 3)]),
        "bad_activation": ((4,), [Branches(((Dense(1, activation="wiggle"),),))]),
        "embedding": ((4,), [Dense(8), Dense(2)]),
    }
    shape, stack = cases[layers]
    embedding = (1, 3) if layers == "embedding" else None
    with pytest.raises(CandleError, match=re.escape(words)):
        ModelSpec("m", shape, stack, "mse", OptimizerSpec("sgd", 0.1), embedding=embedding)

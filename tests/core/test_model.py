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

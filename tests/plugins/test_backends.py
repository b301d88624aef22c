"""Both backends realize one neutral description: same parameters, same function, same training rules."""

import numpy as np
import pytest
from helpers import SMALL_NT3, nt3_defaults, resolve, run

from candle_benchmarks.nt3.model import nt3_model
from candle_core.initializers import initial_weights
from candle_core.model import Dense, Dropout, Flatten, ModelSpec, OptimizerSpec, PermanentDropout
from candle_core.plugin_manager import get_plugin_manager

BACKENDS = ["torch", "keras"]
NT3 = nt3_defaults()


def backend(name):
    return get_plugin_manager().component("backend", name)()


def assert_same_function(spec: ModelSpec, rows: int) -> None:
    """Both backends, loaded with the same weights, count the same parameters and compute the same outputs."""
    weights = initial_weights(spec.infos(), "glorot_uniform", 11)
    x = np.random.default_rng(2).random((rows, *spec.input_shape), dtype=np.float32)
    outputs = {}
    for name in BACKENDS:
        b = backend(name)
        model = b.build(spec, weights, "fp32", 3)
        assert sum(row[2] for row in b.layer_table(model)) == spec.n_params
        outputs[name] = b.predict(model, x, 4)
    np.testing.assert_allclose(outputs["torch"], outputs["keras"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", BACKENDS)
def test_full_size_nt3_summary(candle, name):
    result = candle("summary", "nt3", "--backend", name)
    assert result.code == 0, result.err
    assert result.out.strip().splitlines()[-1] == "total parameters: 154922918"


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"locally_connected": True, "conv": [8, 5, 2, 8, 3, 1], "pool": [2, 2]},
        {"activation": "tanh", "out_activation": "sigmoid", "pool": [3, 2]},
    ],
)
@pytest.mark.needs("keras")
def test_same_weights_same_function(overrides):
    assert_same_function(nt3_model({**NT3, **overrides}, (120, 1)), rows=6)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "adagrad", "adadelta"])
@pytest.mark.needs("keras")
def test_optimizers_take_the_same_step(optimizer):
    spec = ModelSpec(
        "m",
        (12, 1),
        [Flatten(), Dense(8, activation="relu"), Dense(3, activation="softmax")],
        "categorical_crossentropy",
        OptimizerSpec.from_params(
            {"optimizer": optimizer, "learning_rate": 0.05, "momentum": 0.5 if optimizer == "sgd" else 0.0}
        ),
        ["accuracy"],
    )
    rng = np.random.default_rng(0)
    x = rng.random((16, 12, 1), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16)]
    weights = initial_weights(spec.infos(), "glorot_uniform", 1)
    after = {}
    for name in BACKENDS:
        b = backend(name)
        model = b.build(spec, weights, "fp32", 1)
        before = b.predict(model, x, 16)
        for _ in range(3):
            logs = b.train_epoch(model, x, y, 8, np.arange(16), lambda: None)
        assert np.isfinite(logs["loss"]) and not np.allclose(before, b.predict(model, x, 16))
        after[name] = b.predict(model, x, 16)
    np.testing.assert_allclose(after["torch"], after["keras"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", BACKENDS)
def test_permanent_dropout_stays_on_and_mc_dropout(name):
    x = np.random.default_rng(0).random((32, 10), dtype=np.float32)
    layers = [Dense(64, activation="relu"), PermanentDropout(0.5), Dense(1)]
    spec = ModelSpec("m", (10,), layers, "mse", OptimizerSpec("sgd", 0.01))
    b = backend(name)
    model = b.build(spec, initial_weights(spec.infos(), "glorot_uniform", 0), "fp32", 0)
    assert not np.allclose(b.predict(model, x, 32), b.predict(model, x, 32))
    spec = ModelSpec(
        "m", (10,), [Dense(64, activation="relu"), Dropout(0.5), Dense(1)], "mse", OptimizerSpec("sgd", 0.01)
    )
    model = b.build(spec, initial_weights(spec.infos(), "glorot_uniform", 0), "fp32", 0)
    assert np.array_equal(b.predict(model, x, 32), b.predict(model, x, 32))  # inference: dropout off
    first, second = b.predict(model, x, 32, monte_carlo=True), b.predict(model, x, 32, monte_carlo=True)
    assert not np.allclose(first, second)


# keras: slow (40 s on 2 cores); the torch run keeps the shared loop in every CI run
@pytest.mark.parametrize("name", ["torch", pytest.param("keras", marks=pytest.mark.slow)])
def test_reduced_nt3_learns_and_repeats(name, candle_dirs):
    argv = [*SMALL_NT3, "--backend", name, "-e", "4"]
    results, history = run("nt3", [*argv, "--experiment_id", "A"])
    assert results["status"] == "ok" and results["backend"] == name
    assert history[-1]["val_accuracy"] > 0.9, history
    again, history_again = run("nt3", [*argv, "--experiment_id", "B"])
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in history]
    strip_again = [{k: v for k, v in row.items() if k != "seconds"} for row in history_again]
    assert strip == strip_again
    assert (candle_dirs / "nt3" / "EXP000").exists() is False  # output_dir '.' of the model file: nt3/./A/RUN000
    assert (candle_dirs / "nt3" / "A" / "RUN000" / "learning_curve.png").stat().st_size > 10_000


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.slow  # 1-1.5 min on 2 cores; the GPU tests train bf16 where it matters
def test_bf16_trains(name, candle_dirs):
    results, history = run("nt3", [*SMALL_NT3, "--backend", name, "-e", "1", "--precision", "bf16"])
    assert results["status"] == "ok" and np.isfinite(history[0]["val_loss"])


def test_unknown_backend_is_a_clear_error(candle):
    result = candle("run", "nt3", "--backend", "jax", "--data", "synthetic", "--feature_subsample", "100")
    assert result.code == 2 and "unknown backend 'jax'" in result.err and "keras, torch" in result.err


def test_params_has_run_keywords():
    params = resolve("nt3", ["--backend", "keras"])
    assert params["backend"] == "keras" and params["precision"] == "fp32" and params["data"] == "real"


@pytest.mark.slow
@pytest.mark.parametrize("name", BACKENDS)
def test_full_width_nt3_training_step(name):
    """One batch of full-width (60,483 genes) synthetic NT3 through each backend."""
    from candle_benchmarks.nt3.data import FEATURES, synthetic_tables

    x_train, y_train, _, _ = synthetic_tables(FEATURES)
    x = (x_train[:40] / x_train.max(axis=0))[..., None].astype(np.float32)
    y = np.eye(2, dtype=np.float32)[y_train[:40].astype(int)]
    spec = nt3_model(NT3, (FEATURES, 1))
    b = backend(name)
    model = b.build(spec, initial_weights(spec.infos(), spec.initializer, 0), "fp32", 0)
    logs = b.train_epoch(model, x, y, 20, np.arange(40), lambda: None)
    assert np.isfinite(logs["loss"]) and sum(row[2] for row in b.layer_table(model)) == 154922918


@pytest.mark.needs("keras")
def test_thin_convolutions_deeper_in_the_network():
    """A second convolution thin enough for the GEMM path (8 channels x kernel 5) matches Keras."""
    spec = nt3_model({**NT3, "conv": [8, 10, 1, 8, 5, 1], "dense": [16]}, (120, 1))
    weights = initial_weights(spec.infos(), "glorot_uniform", 5)
    x = np.random.default_rng(1).random((4, 120, 1), dtype=np.float32)
    outputs = [backend(name).predict(backend(name).build(spec, weights, "fp32", 0), x, 4) for name in BACKENDS]
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------- 2-D layers, branches, latent layers
def _graph_specs():
    from candle_core.model import Branches, Conv2D, GaussianLatent, MaxPool2D, Slice

    cnn = [Conv2D(4, 3, activation="relu"), MaxPool2D(2), Conv2D(3, (2, 3), strides=(1, 2)), Flatten(), Dense(5)]
    heads = Branches(((Dense(6, activation="relu"), Dense(3, activation="softmax")), (Dense(2, activation="softmax"),)))
    latent = Branches(((Dense(8, activation="relu"), GaussianLatent(2, 1.0, 0.1)), (Slice(10, 12),)))
    return {
        "cnn2d": ModelSpec("m", (12, 12, 2), cnn, "mse", OptimizerSpec("sgd", 0.1)),
        "heads": ModelSpec(
            "m",
            (10,),
            [Dense(8, activation="relu"), Branches(heads.branches, names=("a", "b"))],
            "categorical_crossentropy",
            OptimizerSpec("sgd", 0.1),
            ["accuracy"],
        ),
        "cvae": ModelSpec(
            "m", (12,), [latent, Dense(8), Dense(10, activation="sigmoid")], "mse", OptimizerSpec("sgd", 0.1)
        ),
    }


@pytest.mark.parametrize("kind", ["cnn2d", "heads", "cvae"])
@pytest.mark.needs("keras")
def test_graph_layers_same_weights_same_function(kind):
    assert_same_function(_graph_specs()[kind], rows=9)


@pytest.mark.needs("keras")
def test_multi_head_training_takes_the_same_steps():
    """Rows labelled for one head only: the summed per-head loss trains both backends alike."""
    spec = _graph_specs()["heads"]
    rng = np.random.default_rng(0)
    x = rng.random((24, 10), dtype=np.float32)
    y = np.zeros((24, 5), dtype=np.float32)
    y[:12, :3] = np.eye(3)[rng.integers(0, 3, 12)]
    y[12:, 3:] = np.eye(2)[rng.integers(0, 2, 12)]
    weights = initial_weights(spec.infos(), "glorot_uniform", 2)
    losses, after = {}, {}
    for name in BACKENDS:
        b = backend(name)
        model = b.build(spec, weights, "fp32", 0)
        losses[name] = [b.train_epoch(model, x, y, 8, np.arange(24), lambda: None)["loss"] for _ in range(3)]
        after[name] = b.predict(model, x, 24)
    np.testing.assert_allclose(losses["torch"], losses["keras"], rtol=1e-5)
    np.testing.assert_allclose(after["torch"], after["keras"], rtol=1e-4, atol=1e-6)
    assert losses["torch"][-1] < losses["torch"][0]


@pytest.mark.parametrize("name", BACKENDS)
def test_gaussian_latent_adds_kl_and_samples(name):
    from candle_core.model import GaussianLatent

    x = np.random.default_rng(1).random((32, 12), dtype=np.float32)
    loss = {}
    for kl_weight in (0.0, 50.0):
        layers = [Dense(8, activation="relu"), GaussianLatent(2, 1.0, kl_weight), Dense(12, activation="sigmoid")]
        spec = ModelSpec("m", (12,), layers, "mse", OptimizerSpec("sgd", 0.0))
        b = backend(name)
        model = b.build(spec, initial_weights(spec.infos(), "glorot_uniform", 0), "fp32", 0)
        loss[kl_weight] = b.train_epoch(model, x, x, 32, np.arange(32), lambda: None)["loss"]
    assert loss[50.0] > loss[0.0] + 1.0  # the KL divergence of an untrained encoder is well above 0
    assert np.array_equal(b.predict(model, x, 32), b.predict(model, x, 32))  # inference: the mean
    assert not np.allclose(b.predict(model, x, 32, monte_carlo=True), b.predict(model, x, 32, monte_carlo=True))


@pytest.mark.parametrize("kind, layer", [("cvae", 0), ("cnn2d", 1), ("heads", 0)])
@pytest.mark.needs("keras")
def test_a_layers_output_is_the_same_on_both_backends(kind, layer):
    spec = _graph_specs()[kind]
    weights = initial_weights(spec.infos(), "glorot_uniform", 11)
    x = np.random.default_rng(2).random((7, *spec.input_shape), dtype=np.float32)
    outputs = {}
    for name in BACKENDS:
        b = backend(name)
        outputs[name] = b.predict(b.build(spec, weights, "fp32", 3), x, 4, layer=layer)
        assert outputs[name].shape == (7, *spec.infos()[layer].output_shape)
    np.testing.assert_allclose(outputs["torch"], outputs["keras"], rtol=1e-4, atol=1e-6)


def test_a_convolution_fused_with_its_pool_has_no_output_of_its_own():
    from candle_core import CandleError

    spec = _graph_specs()["cnn2d"]  # Conv2D(relu) then MaxPool2D: torch pools before the activation
    b = backend("torch")
    model = b.build(spec, initial_weights(spec.infos(), "glorot_uniform", 1), "fp32", 0)
    with pytest.raises(CandleError, match="fused into the max-pool"):
        b.predict(model, np.zeros((2, 12, 12, 2), dtype=np.float32), 2, layer=0)


def test_torch_checkpoints_hold_host_tensors_only(tmp_path):
    """Device-neutral files: whatever device trained, every tensor is written from host memory."""
    import torch

    spec = ModelSpec("m", (10,), [Dense(8, activation="relu"), Dense(2)], "mse", OptimizerSpec("adam", 0.01))
    b = backend("torch")
    model = b.build(spec, initial_weights(spec.infos(), "glorot_uniform", 0), "fp32", 0)
    x = np.random.default_rng(0).random((16, 10), dtype=np.float32)
    b.train_epoch(model, x, x[:, :2].copy(), 4, np.arange(16), lambda: None)
    b.save(model, tmp_path)
    state = torch.load(tmp_path / "torch_state.pt", weights_only=True)
    tensors = [t for group in (state["network"], state["optimizer"]["state"]) for t in _tensors(group)]
    assert tensors and {t.device.type for t in tensors} == {"cpu"}
    again = b.build(spec, None, "fp32", 0)
    b.load(again, tmp_path)
    assert all(np.array_equal(u, v) for u, v in zip(b.get_weights(model), b.get_weights(again), strict=True))


def _tensors(value):
    if hasattr(value, "device"):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


@pytest.mark.parametrize("name", BACKENDS)
def test_monte_carlo_samples_in_one_pass_are_independent(name):
    spec = ModelSpec(
        "m", (10,), [Dense(64, activation="relu"), Dropout(0.5), Dense(1)], "mse", OptimizerSpec("sgd", 0.01)
    )
    b = backend(name)
    model = b.build(spec, initial_weights(spec.infos(), "glorot_uniform", 0), "fp32", 0)
    x = np.random.default_rng(0).random((7, 10), dtype=np.float32)
    samples = b.predict_samples(model, x, 4, 5)
    assert samples.shape == (5, 7, 1)
    assert all(not np.allclose(samples[i], samples[j]) for i in range(5) for j in range(i))
    assert np.array_equal(b.predict(model, x, 4), b.predict(model, x, 4))  # dropout off again afterwards

"""candle_lib's Keras helpers through ``import candle``, on Keras 3 (the engine in use), each
checked against numpy formulas or what Keras itself does."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import candle  # noqa: E402


def _value(tensor) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def _small_model(inputs=4, outputs=3, activation="softmax"):
    model = keras.Sequential(
        [
            keras.Input(shape=(inputs,)),
            keras.layers.Dense(5, activation="relu"),
            keras.layers.Dense(outputs, activation=activation),
        ]
    )
    return model


def test_build_optimizer_uses_the_given_settings():
    defaults = candle.keras_default_config() | {"momentum_sgd": 0.5, "nesterov_sgd": True}
    sgd = candle.build_optimizer("sgd", 0.02, defaults)
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.momentum == 0.5 and sgd.nesterov
    assert float(_value(sgd.learning_rate)) == pytest.approx(0.02)
    adam = candle.build_optimizer("adam", 0.001, candle.keras_default_config())
    assert adam.epsilon == 1e-7 and adam.beta_2 == 0.999
    assert isinstance(candle.build_optimizer("rmsprop", 0.1, defaults), keras.optimizers.RMSprop)
    with pytest.raises(Exception, match="optimizer"):
        candle.build_optimizer("lion", 0.1, defaults)


def test_build_initializer_kinds_and_he_normal_is_normal():
    defaults = candle.keras_default_config()
    assert np.all(_value(candle.build_initializer("constant", defaults, constant=0.5)((3,))) == 0.5)
    uniform = _value(candle.build_initializer("uniform", defaults, seed=1)((2000,)))
    assert uniform.min() >= -0.05 and uniform.max() <= 0.05
    he = _value(candle.build_initializer("he_normal", defaults, seed=1)((400, 300)))
    assert abs(he.std() - np.sqrt(2 / 400)) < 0.01 and np.abs(he).max() <= 2 * np.sqrt(2 / 400) / 0.8796 + 1e-6
    for name in ("normal", "glorot_uniform", "glorot_normal", "lecun_uniform"):
        assert _value(candle.build_initializer(name, defaults, seed=2)((4, 4))).shape == (4, 4)
    with pytest.raises(ValueError, match="initializer"):
        candle.build_initializer("zeros_like", defaults)


def test_metrics_match_numpy():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(8, 2)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")
    assert np.allclose(_value(candle.mse(y, p)), ((y - p) ** 2).mean(axis=-1), atol=1e-6)
    assert np.allclose(_value(candle.mae(y, p)), np.abs(y - p).mean(axis=-1), atol=1e-6)
    r2 = 1 - ((y - p) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert float(_value(candle.r2(y, p))) == pytest.approx(r2, rel=1e-5)
    assert candle.get_function("r2") is candle.r2
    assert float(_value(candle.get_function("mean_squared_error")(y, p)).mean()) == pytest.approx(
        ((y - p) ** 2).mean(), rel=1e-5
    )
    with pytest.raises(ValueError, match="no Keras function"):
        candle.get_function("not_a_loss")


def test_trainable_params_of_keras_and_torch_models():
    model = _small_model()
    model.layers[0].trainable = False
    counts = candle.compute_trainable_params(model)
    assert counts == {"trainable_params": 18, "non_trainable_params": 25, "total_params": 43}
    torch = pytest.importorskip("torch")
    assert candle.compute_trainable_params(torch.nn.Linear(4, 5))["total_params"] == 25


def test_permanent_dropout_registers_and_drops_at_inference(tmp_path):
    candle.register_permanent_dropout()
    inputs = keras.Input(shape=(1000,))
    model = keras.Model(inputs, candle.PermanentDropout(0.5)(inputs))
    out = _value(model.predict(np.ones((1, 1000), "float32"), verbose=0))
    assert 0.3 < (out == 0).mean() < 0.7  # dropout also when predicting
    model.save(tmp_path / "m.keras")
    assert isinstance(keras.models.load_model(tmp_path / "m.keras").layers[-1], candle.PermanentDropout)


def _fit(model, callbacks, epochs=3, x=None, y=None, **kwargs):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 4)).astype("float32") if x is None else x
    y = keras.utils.to_categorical(rng.integers(0, 3, 40), 3) if y is None else y
    return model.fit(
        x, y, epochs=epochs, batch_size=10, verbose=0, validation_data=(x, y), callbacks=callbacks, **kwargs
    )


def test_monitor_logging_and_timeout_callbacks(tmp_path):
    model = _small_model()
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    lines = []
    params = {"output_dir": str(tmp_path / "run"), "model_name": "m", "plots": False}
    _fit(model, [candle.CandleRemoteMonitor(params=params), candle.LoggingCallback(lines.append)])
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2, 3] and "val_accuracy" in history[0]
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["epochs_run"] == 3 and results["objective"]["metric"] == "val_loss"
    assert lines[0].startswith("[Epoch: 0] accuracy:")
    stopper = candle.TerminateOnTimeOut(0.000001)
    done = _fit(model, [stopper], epochs=5)
    assert len(done.history["loss"]) == 1 and "timeout" in stopper.reason
    never = candle.TerminateOnTimeOut(-1)
    assert len(_fit(model, [never], epochs=2).history["loss"]) == 2 and never.reason is None


def test_keras_checkpoints_resume_and_old_names(tmp_path):
    params = {
        "output_dir": str(tmp_path),
        "ckpt_restart_mode": "auto",
        "ckpt_save_interval": 1,
        "ckpt_save_best": True,
        "ckpt_save_best_metric": "val_loss",
        "ckpt_checksum": True,
    }
    model = _small_model()
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    ckpt = candle.CandleCkptKeras(params, verbose=False)
    assert ckpt.restart(model) is None
    _fit(model, [ckpt], epochs=2)
    assert sorted(p.name for p in (tmp_path / "ckpts").iterdir()) == ["best", "epoch_0001", "epoch_0002", "latest.json"]
    fresh = _small_model()
    fresh.compile(loss="categorical_crossentropy", optimizer="adam")
    record = candle.restart(params, fresh, verbose=False)
    assert record["epoch"] == 2
    for before, after in zip(model.get_weights(), fresh.get_weights(), strict=True):
        assert np.array_equal(before, after)
    assert isinstance(candle.CandleCheckpointCallback(params), candle.CandleCkptKeras)
    assert candle.CandleCkptKeras(params).model_type is candle.ModelType.KERAS
    assert isinstance(ckpt, candle.CandleCkpt)
    with pytest.raises(NotImplementedError, match="Keras 3 removed"):
        candle.MultiGPUCheckpoint("x")


def test_cyclic_learning_rate():
    args = {"clr_mode": "trng2", "clr_base_lr": 0.01, "clr_max_lr": 0.03, "clr_gamma": 0.9, "reduce_lr": True}
    assert candle.clr_check_args(args) and not candle.clr_check_args({"clr_mode": "exp"})
    settings = candle.clr_set_args(args)
    assert settings["mode"] == "trng2" and args["reduce_lr"] is False
    clr = candle.clr_callback(**settings)
    clr.step_size = 2
    model = _small_model()
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    history = _fit(model, [clr], epochs=2)
    rates = clr.history["lr"]
    # triangular2 with 2 batches per half cycle: up, top, down, bottom; amplitude halved each cycle
    assert rates[:4] == pytest.approx([0.02, 0.03, 0.02, 0.01]) and rates[4:8] == pytest.approx(
        [0.015, 0.02, 0.015, 0.01]
    )
    assert history.history["lr"] == pytest.approx([0.01, 0.01])
    manual = candle.CyclicLR(0.0, 1.0, step_size=1, scale_fn=lambda x: 0.5, scale_mode="iterations")
    manual.clr_iterations = 1
    assert manual.clr() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="mode"):
        candle.CyclicLR(mode="sawtooth")


def test_abstention_loss_and_metrics_match_numpy():
    y_true = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0]], "float32")
    y_pred = np.array([[0.7, 0.1, 0.2], [0.1, 0.2, 0.7], [0.2, 0.6, 0.2], [0.1, 0.8, 0.1]], "float32")
    mask = np.array([0, 0, 1], "float32")
    abstain = y_pred[:, 2]
    kept = (1 - mask) * y_pred + 1e-7
    base = -(y_true * np.log(kept / kept.sum(axis=1, keepdims=True))).sum(axis=1)  # Keras normalizes the outputs
    expected = (1 - abstain) * base - 0.3 * np.log(1 - abstain)
    assert np.allclose(_value(candle.abstention_loss(0.3, mask)(y_true, y_pred)), expected, atol=1e-5)
    sparse = _value(candle.sparse_abstention_loss(0.3, mask)(np.array([0, 1, 1, 0]), y_pred))
    assert np.allclose(sparse, expected, atol=1e-5)
    # row 1 abstains; of rows 0, 2, 3 two are right
    assert float(_value(candle.abstention_acc_metric(2)(y_true, y_pred))) == pytest.approx(2 / 3)
    assert float(
        _value(candle.sparse_abstention_acc_metric(2)(np.array([[0], [1], [1], [0]]), y_pred))
    ) == pytest.approx(2 / 3)
    assert float(_value(candle.abstention_metric(2)(y_true, y_pred))) == pytest.approx(0.25)
    assert float(_value(candle.acc_class_i_metric(1)(y_true, y_pred))) == pytest.approx(1.0)
    assert float(_value(candle.acc_class_i_metric(0)(y_true, y_pred))) == pytest.approx(0.5)
    assert float(_value(candle.abstention_acc_class_i_metric(2, 1)(y_true, y_pred))) == pytest.approx(1.0)
    assert float(_value(candle.abstention_class_i_metric(2, 1)(y_true, y_pred))) == pytest.approx(0.5)
    assert candle.abstention_loss(0.3, mask).__name__ == "abs_crossentropy"


def test_abstention_adapt_and_labels():
    adapt = candle.AbstentionAdapt_Callback("acc", "abs", alpha0=1.0, init_abs_epoch=0, acc_gain=5.0, abs_gain=1.0)
    adapt.on_epoch_end(0, {"acc": 0.5, "abs": 0.1})
    adapt.on_epoch_end(1, {"acc": 0.8, "abs": 0.1})  # scale 1 - 0.5 = 0.5, held at 0.8
    assert adapt.alphavalues == pytest.approx([1.0, 0.8])
    with pytest.raises(ValueError, match="not logged"):
        adapt.on_epoch_end(2, {"loss": 1.0})
    train, test = candle.modify_labels(3, np.array([0, 1, 1]), np.array([1, 0]))
    assert train.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 0]] and test.shape == (2, 3)
    with pytest.raises(ValueError, match="plus 1"):
        candle.modify_labels(4, np.array([0, 1]), np.array([1, 0]))


def test_add_model_output_widens_the_last_dense_layer():
    model = _small_model(activation="softmax")
    for mode, width in (("abstain", 4), ("het", 6), ("qtl", 9)):
        widened = candle.add_model_output(model, mode=mode, num_add=1, activation="linear")
        assert widened.output_shape[-1] == width
    assert candle.add_model_output(model) is model
    with pytest.raises(ValueError, match="mode"):
        candle.add_model_output(model, mode="wide")


def test_heteroscedastic_and_quantile_losses_match_numpy():
    y = np.array([[1.0], [2.0], [0.0]], "float32")
    mean, log_var = np.array([0.5, 2.5, 0.0], "float32"), np.array([0.1, -0.2, 0.3], "float32")
    pred = np.stack([mean, log_var], axis=1)
    expected = np.mean(np.exp(-log_var) * (mean - y[:, 0]) ** 2 + log_var)
    assert float(_value(candle.heteroscedastic_loss(1)(y, pred))) == pytest.approx(expected, rel=1e-5)
    assert float(_value(candle.mse_heteroscedastic_metric(1)(y, pred))) == pytest.approx(np.mean((mean - y[:, 0]) ** 2))
    assert float(_value(candle.mae_heteroscedastic_metric(1)(y, pred))) == pytest.approx(
        np.mean(np.abs(mean - y[:, 0]))
    )
    assert float(_value(candle.meanS_heteroscedastic_metric(1)(y, pred))) == pytest.approx(log_var.mean())
    r2 = 1 - ((y[:, 0] - mean) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert float(_value(candle.r2_heteroscedastic_metric(1)(y, pred))) == pytest.approx(r2, rel=1e-5)

    def pinball(q, error):
        return np.mean(np.maximum(q * error, (q - 1) * error))

    quantiles = np.array([[1.0, 0.5, 1.5], [2.0, 1.0, 3.0], [0.5, -1.0, 0.6]], "float32")
    error = y[:, 0:1] - quantiles
    expected = pinball(0.1, error[:, 1]) + pinball(0.9, error[:, 2]) + 2 * pinball(0.5, error[:, 0])
    assert float(_value(candle.triple_quantile_loss(1, 0.1, 0.9)(y, quantiles))) == pytest.approx(expected, rel=1e-5)
    assert float(_value(candle.quantile_metric(1, 2, 0.9)(y, quantiles))) == pytest.approx(
        pinball(0.9, error[:, 2]), rel=1e-5
    )
    assert float(_value(candle.quantile_loss(0.5, y, y))) == 0.0


def test_contamination_model_finds_the_outliers():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 1)).astype("float32")
    y = 2 * x[:, 0] + 0.05 * rng.normal(size=200)
    outliers = rng.choice(200, 10, replace=False)
    y[outliers] += rng.choice([-8.0, 8.0], 10)
    y_indexed = candle.add_index_to_output(y.reshape(-1, 1).astype("float32"))
    assert y_indexed[:, -1].tolist() == list(range(200))
    callback = candle.Contamination_Callback(x, y.reshape(-1, 1))
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    loss = candle.contamination_loss(1, callback.T_k, callback.a, callback.sigmaSQ, callback.gammaSQ)
    metrics = [
        candle.mse_contamination_metric(1),
        candle.mae_contamination_metric(1),
        candle.r2_contamination_metric(1),
    ]
    model.compile(loss=loss, optimizer=keras.optimizers.Adam(0.1), metrics=metrics)
    history = model.fit(x, y_indexed, epochs=100, batch_size=200, verbose=0, callbacks=[callback])
    flagged = set(np.flatnonzero(callback.T[:, 1] > 0.5))
    assert set(outliers) <= flagged and len(flagged) <= 15  # the outliers, and few others, are Cauchy rows
    assert history.history["mse_contamination"][-1] < history.history["mse_contamination"][0]
    assert 0.8 < callback.avalues[-1] <= 0.99  # about 95% of the rows are normal
    assert len(callback.avalues) == 100


def test_plot_metrics_writes_a_png_per_metric(tmp_path):
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "acc": [0.2, 0.6], "lr": [0.1, 0.05]}
    paths = candle.plot_metrics(history, title="t", outdir=str(tmp_path), add_lr=True)
    assert sorted(Path(p).name for p in paths) == ["acc.png", "loss.png"]
    assert all(Path(p).stat().st_size > 1000 for p in paths)


def test_thread_counts_after_tensorflow_started_warn(monkeypatch, capsys):
    pytest.importorskip("tensorflow")
    import tensorflow as tf

    tf.constant(1.0) + 1.0  # TensorFlow now runs: its pools are fixed
    monkeypatch.setenv("NUM_INTRA_THREADS", "1")
    monkeypatch.setenv("NUM_INTER_THREADS", "1")
    candle.set_parallelism_threads()
    assert "take effect only before its first use" in capsys.readouterr().err

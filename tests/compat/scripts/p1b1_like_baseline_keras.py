"""A P1B1-style Keras autoencoder: the candle calls, in the order upstream P1B1 makes them."""

import keras
import numpy as np
import p1b1_like
from keras.layers import Dense, Dropout, Input
from keras.models import Model

import candle


def initialize_parameters(default_model="p1b1_like_default_model.txt"):
    benchmark = p1b1_like.BenchmarkP1B1Like(
        p1b1_like.file_path,
        default_model,
        "keras",
        prog="p1b1_like_baseline",
        desc="autoencoder of expression profiles",
    )
    return candle.finalize_parameters(benchmark)


def run(params):
    args = candle.ArgumentStruct(**params)
    seed = args.rng_seed
    candle.set_seed(seed)
    prefix = params["save_path"] + "p1b1_like"
    candle.verify_path(params["save_path"])
    logfile = params["logfile"] if params["logfile"] else prefix + ".log"
    candle.set_up_logger(logfile, p1b1_like.logger, params["verbose"])
    p1b1_like.logger.info("Params: %s", params)
    keras_defaults = candle.keras_default_config()

    x_train, y_train, x_val, y_val, x_test, y_test, x_labels, y_labels = p1b1_like.load_data(params, seed)
    p1b1_like.logger.info("Shape x_train: %s", x_train.shape)

    initializer_weights = candle.build_initializer(params["initialization"], keras_defaults, seed)
    initializer_bias = candle.build_initializer("constant", keras_defaults, 0.0)
    x_input = Input(shape=(x_train.shape[1],))
    h = x_input
    for units in params["dense"]:
        h = Dense(
            units,
            activation=params["activation"],
            kernel_initializer=initializer_weights,
            bias_initializer=initializer_bias,
        )(h)
        h = Dropout(params["dropout"])(h)
    encoded = Dense(
        params["latent_dim"],
        activation=params["activation"],
        kernel_initializer=initializer_weights,
        bias_initializer=initializer_bias,
    )(h)
    decoded = Dense(
        x_train.shape[1],
        activation="sigmoid",
        kernel_initializer=initializer_weights,
        bias_initializer=initializer_bias,
    )(encoded)
    model, encoder = Model(x_input, decoded), Model(x_input, encoded)
    optimizer = candle.build_optimizer(params["optimizer"], params["learning_rate"], keras_defaults)
    model.compile(loss=params["loss"], optimizer=optimizer, metrics=["mse"])
    params.update(candle.compute_trainable_params(model))

    callbacks = [
        candle.CandleRemoteMonitor(params=params),
        candle.TerminateOnTimeOut(params["timeout"]),
        candle.LoggingCallback(p1b1_like.logger.debug),
    ]
    history = model.fit(
        x_train,
        x_train,
        verbose=0,
        batch_size=params["batch_size"],
        epochs=params["epochs"],
        callbacks=callbacks,
        validation_data=(x_val, x_val),
    )
    candle.plot_history(prefix, history, "loss")
    encoded_test = encoder.predict(x_test, verbose=0)
    candle.plot_scatter(encoded_test, np.argmax(y_test, axis=1), prefix + ".latent")
    p1b1_like.logger.info("labels %s", ",".join(y_labels))
    p1b1_like.logger.handlers = []
    return history


if __name__ == "__main__":
    run(initialize_parameters())
    keras.backend.clear_session()

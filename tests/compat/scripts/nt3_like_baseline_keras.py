"""An NT3-style Keras training script: the candle calls, in the order upstream NT3 makes them.

The only edits against an upstream script are Keras 2 -> 3 imports (keras.utils.to_categorical
instead of keras.utils.np_utils, no model_from_yaml)."""

import os

import keras
import nt3_like as bmk
import numpy as np
import pandas as pd
from keras.layers import Activation, Conv1D, Dense, Dropout, Flatten, MaxPooling1D
from keras.models import Sequential
from sklearn.preprocessing import MaxAbsScaler

import candle


def initialize_parameters(default_model="nt3_like_default_model.txt"):
    benchmark = bmk.BenchmarkNT3Like(
        bmk.file_path, default_model, "keras", prog="nt3_like_baseline", desc="1D CNN, normal vs tumor"
    )
    return candle.finalize_parameters(benchmark)


def load_data(train_path, test_path, gParameters):
    train = pd.read_csv(train_path, header=None).values.astype("float32")
    test = pd.read_csv(test_path, header=None).values.astype("float32")
    y_train = keras.utils.to_categorical(train[:, 0].astype("int"), gParameters["classes"])
    y_test = keras.utils.to_categorical(test[:, 0].astype("int"), gParameters["classes"])
    matrix = MaxAbsScaler().fit_transform(np.concatenate([train[:, 1:], test[:, 1:]]))
    x_train, x_test = matrix[: len(train)], matrix[len(train) :]
    if gParameters["add_noise"]:
        if gParameters["noise_correlated"]:
            y_train, _ = candle.label_flip_correlated(
                y_train,
                gParameters["label_noise"],
                x_train,
                gParameters["feature_col"],
                gParameters["feature_threshold"],
            )
        else:
            y_train, _ = candle.label_flip(y_train, gParameters["label_noise"])
    elif gParameters["noise_gaussian"]:
        x_train = candle.add_gaussian_noise(x_train, 0, gParameters["std_dev"])
    return x_train, y_train, x_test, y_test


def run(gParameters):
    url = gParameters["data_url"]
    train_file = candle.get_file(gParameters["train_data"], url + gParameters["train_data"], cache_subdir="Pilot1")
    test_file = candle.get_file(gParameters["test_data"], url + gParameters["test_data"], cache_subdir="Pilot1")
    x_train, y_train, x_test, y_test = load_data(train_file, test_file, gParameters)
    x_train, x_test = np.expand_dims(x_train, 2), np.expand_dims(x_test, 2)

    model = Sequential()
    model.add(keras.Input(shape=(x_train.shape[1], 1)))
    conv = gParameters["conv"]
    for i in range(0, len(conv), 3):
        filters, length, stride = conv[i : i + 3]
        model.add(Conv1D(filters=filters, kernel_size=length, strides=stride, padding="valid"))
        model.add(Activation(gParameters["activation"]))
        model.add(MaxPooling1D(pool_size=gParameters["pool"][i // 3]))
    model.add(Flatten())
    for units in gParameters["dense"]:
        model.add(Dense(units))
        model.add(Activation(gParameters["activation"]))
        model.add(Dropout(gParameters["dropout"]))
    model.add(Dense(gParameters["classes"]))
    model.add(Activation(gParameters["out_activation"]))

    kerasDefaults = candle.keras_default_config()
    optimizer = candle.build_optimizer(gParameters["optimizer"], gParameters["learning_rate"], kerasDefaults)
    model.compile(loss=gParameters["loss"], optimizer=optimizer, metrics=[gParameters["metrics"]])
    os.makedirs(gParameters["output_dir"], exist_ok=True)
    gParameters.update(candle.compute_trainable_params(model))

    monitor = candle.CandleRemoteMonitor(params=gParameters)
    timeout = candle.TerminateOnTimeOut(gParameters["timeout"])
    history = model.fit(
        x_train,
        y_train,
        batch_size=gParameters["batch_size"],
        epochs=gParameters["epochs"],
        verbose=0,
        validation_data=(x_test, y_test),
        callbacks=[monitor, timeout],
    )
    print("trainable_params", gParameters["trainable_params"])
    return history


def main():
    run(initialize_parameters())


if __name__ == "__main__":
    main()

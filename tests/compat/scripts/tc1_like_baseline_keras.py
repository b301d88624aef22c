"""A TC1-style Keras classifier: archive download, one-hot loader, CANDLE checkpoints and a
cyclic learning rate, the candle calls in upstream TC1's order."""

import os

import keras
from keras.layers import Dense, Dropout

import candle

file_path = os.path.dirname(os.path.realpath(__file__))
additional_definitions = [{"name": "classes", "type": int, "default": 3}]
required = ["data_url", "train_data", "test_data", "dense", "epochs", "batch_size", "learning_rate", "optimizer"]


class TC1Like(candle.Benchmark):
    def set_locals(self):
        self.required = set(required)
        self.additional_definitions = additional_definitions


def initialize_parameters():
    benchmark = TC1Like(file_path, "tc1_like_default_model.txt", "keras", prog="tc1_like", desc="tumor classifier")
    params = candle.finalize_parameters(benchmark)
    candle.check_flag_conflicts(params)
    return params


def run(params):
    folder = candle.fetch_file(params["data_url"] + "type-class.tar.gz", "Pilot1", unpack=True)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = candle.load_Xy_one_hot_data2(
        os.path.join(folder, params["train_data"]),
        os.path.join(folder, params["test_data"]),
        class_col=0,
        drop_cols=["sample"],
        scaling="std",
        validation_split=0.2,
        seed=params["rng_seed"],
    )
    model = keras.Sequential([keras.Input(shape=(x_train.shape[1],))])
    for units in params["dense"]:
        model.add(Dense(units, activation="relu"))
        model.add(Dropout(params["dropout"]))
    model.add(Dense(y_train.shape[1], activation="softmax"))
    optimizer = candle.build_optimizer(params["optimizer"], params["learning_rate"], candle.keras_default_config())
    model.compile(loss="categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])

    ckpt = candle.CandleCkptKeras(params, verbose=False)
    ckpt.set_model(model)
    J = ckpt.restart(model)
    initial_epoch = J["epoch"] if J is not None else 0
    print("initial_epoch", initial_epoch)
    callbacks = [ckpt, candle.CandleRemoteMonitor(params=params)]
    if candle.clr_check_args(params):
        clr = candle.clr_callback(**candle.clr_set_args(params))
        callbacks.append(clr)
    history = model.fit(
        x_train,
        y_train,
        batch_size=params["batch_size"],
        epochs=params["epochs"],
        verbose=0,
        initial_epoch=initial_epoch,
        validation_data=(x_val, y_val),
        callbacks=callbacks,
    )
    print("test accuracy", model.evaluate(x_test, y_test, verbose=0)[1])
    print("lr per epoch", [round(float(v), 6) for v in history.history["lr"]])
    return history


if __name__ == "__main__":
    run(initialize_parameters())

"""A P3B1-style multi-task script: per-fold files from an archive, one Keras model per task, the
candle calls in upstream P3B1's order."""

import os

import keras
import numpy as np
from keras.layers import Dense, Input
from keras.models import Model

import candle

file_path = os.path.dirname(os.path.realpath(__file__))
additional_definitions = [
    {"name": "shared_nnet_spec", "nargs": "+", "type": int, "help": "shared layers"},
    {"name": "ind_nnet_spec", "action": "list-of-lists", "help": "task-specific layers"},
    {"name": "feature_names", "nargs": "+", "type": str},
    {"name": "n_fold", "action": "store", "type": int},
]
required = [
    "learning_rate",
    "batch_size",
    "epochs",
    "activation",
    "optimizer",
    "n_fold",
    "shared_nnet_spec",
    "ind_nnet_spec",
    "feature_names",
]


class P3B1Like(candle.Benchmark):
    def set_locals(self):
        self.required = set(required)
        self.additional_definitions = additional_definitions


def initialize_parameters():
    benchmark = P3B1Like(file_path, "p3b1_like_default_model.txt", "keras", prog="p3b1_like", desc="multi-task DNN")
    return candle.finalize_parameters(benchmark)


def run(params):
    folder = candle.fetch_file(params["data_url"] + params["train_data"], "Pilot3", untar=True)
    kerasDefaults = candle.keras_default_config()
    losses = []
    base_run_id = params["run_id"]
    for fold in range(params["n_fold"]):
        for task, layers in enumerate(params["ind_nnet_spec"]):
            x = np.loadtxt(os.path.join(folder, f"task{task}_{fold}_train_feature.csv"), delimiter=",")
            y = np.loadtxt(os.path.join(folder, f"task{task}_{fold}_train_label.csv"), delimiter=",").astype(int)
            inputs = Input(shape=(x.shape[1],), name="input")
            h = inputs
            for units in list(params["shared_nnet_spec"]) + list(layers):
                h = Dense(units, activation=params["activation"])(h)
            outputs = Dense(int(y.max()) + 1, activation="softmax", name=f"out_{task}")(h)
            model = Model(inputs=[inputs], outputs=[outputs])
            counts = candle.compute_trainable_params(model)
            optimizer = candle.build_optimizer(params["optimizer"], params["learning_rate"], kerasDefaults)
            model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])
            params["run_id"] = f"{base_run_id}.{fold}.{task}"
            history = model.fit(
                x,
                y,
                epochs=params["epochs"],
                batch_size=params["batch_size"],
                verbose=0,
                callbacks=[candle.TerminateOnTimeOut(params["timeout"])],
            )
            losses.append(history.history["loss"][-1])
            print(f"fold {fold} task {task} params {counts['total_params']} loss {losses[-1]:.4f}")
    print("average loss", float(np.mean(losses)))


if __name__ == "__main__":
    run(initialize_parameters())
    keras.backend.clear_session()

"""An MNIST-style PyTorch script with CANDLE checkpoints, in the style of candle_lib's examples."""

import os

import numpy as np
import torch

import candle

file_path = os.path.dirname(os.path.realpath(__file__))

additional_definitions = [{"name": "hidden", "nargs": "+", "type": int, "help": "hidden layer sizes"}]
required = ["epochs", "batch_size", "learning_rate", "optimizer", "hidden", "data_url", "train_data"]


class MnistLike(candle.Benchmark):
    def set_locals(self):
        self.required = set(required)
        self.additional_definitions = additional_definitions


def initialize_parameters():
    benchmark = MnistLike(
        file_path, "mnist_like_default_model.txt", "pytorch", prog="mnist_like", desc="MLP on 8x8 digits"
    )
    return candle.finalize_parameters(benchmark)


def build_model(params, inputs, classes):
    layers, width = [], inputs
    for units in params["hidden"]:
        linear = torch.nn.Linear(width, units)
        candle.pytorch_initialize(
            linear.weight, params["initialization"], candle.keras_default_config(), params["rng_seed"]
        )
        candle.pytorch_initialize(linear.bias, "constant", candle.keras_default_config())
        layers += [linear, candle.build_pytorch_activation(params["activation"])]
        width = units
    layers.append(torch.nn.Linear(width, classes))
    return torch.nn.Sequential(*layers)


def run(params):
    candle.set_pytorch_seed(params["rng_seed"])
    candle.set_pytorch_threads()
    path = candle.get_file(
        params["train_data"], params["data_url"] + params["train_data"], datadir=params["data_dir"], cache_subdir=None
    )
    data = np.load(path)
    x, y = torch.tensor(data["x"], dtype=torch.float32), torch.tensor(data["y"], dtype=torch.int64)
    x_train, y_train, x_val, y_val = x[:1400], y[:1400], x[1400:], y[1400:]
    model = build_model(params, x.shape[1], 10)
    optimizer = candle.build_pytorch_optimizer(
        model, params["optimizer"], params["learning_rate"], candle.keras_default_config()
    )
    loss_function = candle.get_pytorch_function("categorical_crossentropy")

    ckpt = candle.CandleCkptPyTorch(params)
    ckpt.set_model({"model": model, "optimizer": optimizer})
    J = ckpt.restart(model={"model": model, "optimizer": optimizer})
    initial_epoch = J["epoch"] if J is not None else 0
    print("initial_epoch", initial_epoch)
    params.update(candle.compute_trainable_params(model))

    for epoch in range(initial_epoch, params["epochs"]):
        model.train()
        for start in range(0, len(x_train), params["batch_size"]):
            optimizer.zero_grad()
            batch = slice(start, start + params["batch_size"])
            loss = loss_function(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            logits = model(x_val)
            val_loss = float(candle.pytorch_xent(y_val, logits))
            one_hot = torch.nn.functional.one_hot(y_val, 10).float()
            val_mse = float(candle.pytorch_mse(one_hot, torch.softmax(logits, dim=1)))
        print(f"epoch {epoch + 1} val_loss {val_loss:.6f} val_mse {val_mse:.6f}")
        ckpt.ckpt_epoch(epoch, val_loss)
    return model


if __name__ == "__main__":
    run(initialize_parameters())

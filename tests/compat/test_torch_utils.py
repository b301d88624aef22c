"""candle_lib's PyTorch helpers through ``import candle``: Keras rules on torch tensors."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import candle  # noqa: E402
from candle_core.initializers import initial_kernel  # noqa: E402


def test_optimizer_is_candles_keras_exact_one():
    model = torch.nn.Linear(3, 2)
    model.bias.requires_grad = False
    optimizer = candle.build_pytorch_optimizer(model, "adam", 0.01, candle.keras_default_config())
    assert type(optimizer).__name__ == "KerasAdam" and len(optimizer.param_groups[0]["params"]) == 1
    sgd = candle.build_pytorch_optimizer(model, "sgd", 0.1, candle.keras_default_config(), trainable_only=False)
    assert len(sgd.param_groups[0]["params"]) == 2
    with pytest.raises(Exception, match="optimizer"):
        candle.build_pytorch_optimizer(model, "lamb", 0.1, candle.keras_default_config())


def test_initialize_follows_keras_layout_and_seed():
    weights = torch.empty(5, 3)  # torch: (out, in)
    candle.pytorch_initialize(weights, "glorot_uniform", candle.keras_default_config(), seed=4)
    keras_kernel = initial_kernel("glorot_uniform", (3, 5), np.random.default_rng(4))  # Keras: (in, out)
    assert np.array_equal(weights.numpy(), keras_kernel.T)
    conv = torch.empty(8, 2, 5)
    candle.pytorch_initialize(conv, "he_normal", candle.keras_default_config(), seed=1)
    assert abs(conv.std().item() - np.sqrt(2 / 10)) < 0.1
    bias = torch.empty(4)
    assert torch.all(candle.pytorch_initialize(bias, "constant", {}, constant=0.25) == 0.25)
    uniform = candle.pytorch_initialize(torch.empty(1000), "uniform", candle.keras_default_config(), seed=2)
    assert uniform.abs().max() <= 0.05
    normal = candle.pytorch_initialize(torch.empty(5000), "normal", candle.keras_default_config(), seed=2)
    assert abs(normal.std().item() - 0.05) < 0.005
    with pytest.raises(ValueError, match="initializer"):
        candle.pytorch_initialize(torch.empty(2, 2), "orthogonal", {})


def test_activations_losses_seed_and_threads(monkeypatch):
    assert isinstance(candle.build_pytorch_activation("tanh"), torch.nn.Tanh)
    with pytest.raises(ValueError, match="activation"):
        candle.build_pytorch_activation("swishy")
    assert isinstance(candle.get_pytorch_function("mse"), torch.nn.MSELoss)
    with pytest.raises(ValueError, match="no pytorch function"):
        candle.get_pytorch_function("hinge")
    logits, labels = torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1])
    expected = -np.mean(np.log([np.exp(2) / (np.exp(2) + 1), np.exp(1) / (np.exp(1) + 1)]))
    assert candle.pytorch_xent(labels, logits).item() == pytest.approx(expected, rel=1e-6)
    assert candle.pytorch_mse(torch.zeros(3), torch.ones(3)).item() == 1.0
    candle.set_pytorch_seed(3)
    first = torch.rand(2)
    candle.set_pytorch_seed(3)
    assert torch.equal(first, torch.rand(2))
    monkeypatch.setenv("NUM_INTRA_THREADS", "1")
    monkeypatch.setenv("NUM_INTER_THREADS", "1")
    threads = torch.get_num_threads()
    candle.set_pytorch_threads()
    assert torch.get_num_threads() == 1
    torch.set_num_threads(threads)


def test_torch_checkpoint_round_trip(tmp_path):
    params = {
        "output_dir": str(tmp_path),
        "ckpt_restart_mode": "auto",
        "ckpt_save_interval": 2,
        "ckpt_save_best": False,
    }
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ckpt = candle.CandleCkptPyTorch(params)
    ckpt.set_model({"model": model, "optimizer": optimizer})
    assert ckpt.restart() is None
    model(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    for epoch in range(3):
        ckpt.ckpt_epoch(epoch, {"val_loss": 1.0 / (epoch + 1)})
    assert sorted(p.name for p in ckpt.directory.iterdir()) == ["epoch_0002", "latest.json"]
    other = torch.nn.Linear(2, 1)
    other_optimizer = torch.optim.SGD(other.parameters(), lr=0.1, momentum=0.9)
    again = candle.CandleCkptPyTorch(params)
    record = again.restart({"model": other, "optimizer": other_optimizer}, verbose=False)
    assert record["epoch"] == 2 and torch.equal(other.weight, model.weight)
    assert other_optimizer.state_dict()["state"][0]["momentum_buffer"] is not None
    assert again.model_type is candle.ModelType.PYTORCH

"""The PyTorch backend: builds candle's neutral networks as torch modules and trains them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from candle_core.backend import Backend
from candle_core.errors import CandleError
from candle_core.metrics import EPSILON
from candle_core.model import ModelSpec, OptimizerSpec
from candle_plugins.backends.torch.layers import Built, build_modules
from candle_plugins.backends.torch.optimizers import KerasAdam, KerasRMSprop

CHECKPOINT_FILE = "torch_state.pt"


class Network(nn.Module):
    def __init__(self, modules: list[Built]):
        super().__init__()
        self.layers = nn.ModuleList(built.module for built in modules)
        self.rows = [(built.kind, built.shape) for built in modules]
        # neutral layer index -> number of modules to run for its output
        self.ends = {built.completes: i + 1 for i, built in enumerate(modules) if built.completes is not None}

    def forward(self, x: torch.Tensor, upto: int | None = None) -> torch.Tensor:
        """The network's output, or (``upto``) the output of neutral layer ``upto``."""
        layers = self.layers if upto is None else self.layers[: self.ends[upto]]
        for layer in layers:
            x = layer(x)
        return x

    def layer_losses(self) -> torch.Tensor | float:
        """What layers added to the loss in the last forward pass (a VAE's KL divergence)."""
        return sum(m.added_loss for m in self.modules() if getattr(m, "added_loss", None) is not None)


@dataclass
class TorchModel:
    spec: ModelSpec
    network: Network
    optimizer: torch.optim.Optimizer
    precision: str
    steps: int = 0  # optimizer steps taken, for inverse-time decay
    base_learning_rate: float = 0.0
    average_gradients: Callable[[list[np.ndarray]], None] | None = None


def _optimizer(parameters, spec: OptimizerSpec) -> torch.optim.Optimizer:
    lr = spec.learning_rate
    if spec.name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=spec.momentum, nesterov=spec.nesterov)
    if spec.name == "adam":
        return KerasAdam(parameters, lr, spec.beta_1, spec.beta_2, spec.epsilon)
    if spec.name == "rmsprop":
        return KerasRMSprop(parameters, lr, spec.rho, spec.momentum, spec.epsilon)
    if spec.name == "adagrad":  # Keras starts the accumulator at 0.1
        return torch.optim.Adagrad(parameters, lr=lr, eps=spec.epsilon, initial_accumulator_value=0.1)
    return torch.optim.Adadelta(parameters, lr=lr, rho=spec.rho, eps=spec.epsilon)


def _loss(name: str, heads, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
    """The same formulas as ``candle_core.metrics`` (and Keras), on tensors; summed over heads."""
    if heads:
        return sum(_one_loss(name, y_pred[:, a:b], y_true[:, a:b]) for _, a, b in heads)
    return _one_loss(name, y_pred, y_true)


def _one_loss(name: str, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
    if name == "categorical_crossentropy":
        p = (y_pred / y_pred.sum(dim=-1, keepdim=True)).clamp(EPSILON, 1 - EPSILON)
        return -(y_true * p.log()).sum(dim=-1).mean()
    if name == "binary_crossentropy":
        p = y_pred.clamp(EPSILON, 1 - EPSILON)
        return -(y_true * p.log() + (1 - y_true) * (1 - p).log()).mean()
    if name == "mse":
        return ((y_true - y_pred) ** 2).mean()
    return (y_true - y_pred).abs().mean()


class TorchBackend(Backend):
    name = "torch"

    def build(
        self, spec: ModelSpec, weights, precision: str = "fp32", seed: int = 0, average_gradients=None
    ) -> TorchModel:
        torch.manual_seed(seed)
        network = Network(build_modules(spec.infos(), weights))
        optimizer = _optimizer(network.parameters(), spec.optimizer)
        rate = spec.optimizer.learning_rate
        return TorchModel(
            spec, network, optimizer, precision, base_learning_rate=rate, average_gradients=average_gradients
        )

    def layer_table(self, model: TorchModel) -> list[tuple[str, str, int]]:
        rows = []
        for (kind, shape), module in zip(model.network.rows, model.network.layers, strict=True):
            count = sum(p.numel() for p in module.parameters()) + sum(b.numel() for b in module.buffers())
            rows.append((kind, shape, count))
        return rows

    def _autocast(self, model: TorchModel):
        if model.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return nullcontext()

    def train_epoch(
        self, model: TorchModel, x, y, batch_size: int, order: np.ndarray, on_batch: Callable[[], None]
    ) -> dict[str, float]:
        from candle_core.metrics import evaluate

        network, optimizer, spec = model.network, model.optimizer, model.spec
        heads = spec.heads
        network.train()
        total, outputs = 0.0, []
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            x_batch, y_batch = torch.from_numpy(x[index]), torch.from_numpy(y[index])
            if spec.optimizer.decay:
                self._set_rate(model, model.base_learning_rate / (1 + spec.optimizer.decay * model.steps))
            optimizer.zero_grad(set_to_none=True)
            with self._autocast(model):
                output = network(x_batch)
            output = output.float()
            loss = _loss(spec.loss, heads, output, y_batch) + network.layer_losses()
            loss.backward()
            if model.average_gradients is not None:
                model.average_gradients([p.grad.numpy() for p in network.parameters() if p.grad is not None])
            self._clip(model)
            optimizer.step()
            model.steps += 1
            total += loss.item() * len(index)
            outputs.append(output.detach().numpy())
            on_batch()
        predictions = np.concatenate(outputs)
        values = evaluate(spec.loss, spec.train_metrics, y[order], predictions, heads=heads)
        values["loss"] = total / len(order)
        return values

    def _clip(self, model: TorchModel) -> None:
        spec = model.spec.optimizer
        if spec.clipnorm is None and spec.clipvalue is None:
            return
        for parameter in model.network.parameters():
            if parameter.grad is None:
                continue
            if spec.clipnorm is not None:  # Keras clips each weight's gradient on its own
                nn.utils.clip_grad_norm_([parameter], spec.clipnorm)
            if spec.clipvalue is not None:
                parameter.grad.clamp_(-spec.clipvalue, spec.clipvalue)

    @torch.no_grad()
    def predict(
        self, model: TorchModel, x, batch_size: int, monte_carlo: bool = False, layer: int | None = None
    ) -> np.ndarray:
        network = model.network
        if layer is not None and layer not in network.ends:
            raise CandleError(f"layer {layer}'s output is fused into the max-pool after it; ask for the pool's")
        network.eval()
        for module in network.modules():
            if hasattr(module, "monte_carlo"):  # dropout, and a VAE's sampling
                module.monte_carlo = monte_carlo
        outputs = []
        for start in range(0, len(x), batch_size):
            with self._autocast(model):
                batch = torch.from_numpy(x[start : start + batch_size])
                outputs.append(network(batch, upto=layer).float().numpy())
        return np.concatenate(outputs)

    def get_learning_rate(self, model: TorchModel) -> float:
        return float(model.optimizer.param_groups[0]["lr"])

    def _set_rate(self, model: TorchModel, value: float) -> None:
        for group in model.optimizer.param_groups:
            group["lr"] = value

    def set_learning_rate(self, model: TorchModel, value: float) -> None:
        model.base_learning_rate = value
        self._set_rate(model, value)

    def get_weights(self, model: TorchModel) -> list[np.ndarray]:
        return [tensor.detach().numpy().copy() for tensor in model.network.state_dict().values()]

    @torch.no_grad()
    def set_weights(self, model: TorchModel, weights: list[np.ndarray]) -> None:
        for tensor, array in zip(model.network.state_dict().values(), weights, strict=True):
            tensor.copy_(torch.from_numpy(np.ascontiguousarray(array)))

    def save(self, model: TorchModel, directory: Path, include_optimizer: bool = True) -> None:
        state = {
            "network": model.network.state_dict(),
            "rng": torch.get_rng_state(),
            "steps": model.steps,
            "base_learning_rate": model.base_learning_rate,
        }
        if include_optimizer:
            state["optimizer"] = model.optimizer.state_dict()
        torch.save(state, directory / CHECKPOINT_FILE)

    def load(self, model: TorchModel, directory: Path) -> None:
        state = torch.load(directory / CHECKPOINT_FILE, weights_only=True)
        model.network.load_state_dict(state["network"])
        if "optimizer" in state:
            model.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        model.steps = int(state["steps"])
        model.base_learning_rate = float(state["base_learning_rate"])

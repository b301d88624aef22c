"""The PyTorch backend: builds candle's neutral networks as torch modules and trains them."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from candle_core.contracts import Backend, GradientSync
from candle_core.device import GPU
from candle_core.errors import CandleError
from candle_core.gpu_slots import MEMORY_FRACTION
from candle_core.metrics import EPSILON, evaluate
from candle_core.model import ModelSpec, OptimizerSpec
from candle_core.tensorboard import ensure_tensorboard_without_tensorflow
from candle_plugins.backends.profilers import torch_profile
from candle_plugins.backends.torch.devices import set_tf32, torch_gpus
from candle_plugins.backends.torch.layers import Built, build_modules
from candle_plugins.backends.torch.optimizers import KerasAdam, KerasRMSprop

CHECKPOINT_FILE = "torch_state.pt"
RESIDENT_SHARE = 0.5  # a data array stays on the GPU when it takes at most this share of the free memory
PLACED_ARRAYS = 6  # arrays remembered on the device (train, validation, test, ...)
MC_PASS_ROWS = 256  # rows of one Monte-Carlo forward pass on a GPU (copies included)
AUTOCAST_TYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


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
    device: torch.device
    steps: int = 0  # optimizer steps taken, for inverse-time decay
    base_learning_rate: float = 0.0
    sync: GradientSync | None = None
    scaler: torch.amp.GradScaler | None = None  # fp16: loss scaling
    placed: dict = field(default_factory=dict)  # id(numpy array) -> (array, its tensor for the device)


def torch_optimizer(parameters, spec: OptimizerSpec) -> torch.optim.Optimizer:
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


def _place(model: TorchModel, array: np.ndarray) -> torch.Tensor:
    """``array`` as a tensor to index batches from: the CPU array itself on the CPU; on a GPU,
    a copy resident in GPU memory when it fits, else pinned host memory (copied per batch,
    asynchronously). Remembered (least recently used forgotten first), so that each array crosses
    to the device once per run."""
    hit = model.placed.pop(id(array), None)
    if hit is not None and hit[0] is array:
        model.placed[id(array)] = hit  # most recently used last: arrays used every epoch stay
        return hit[1]
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if model.device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(model.device)
        tensor = tensor.to(model.device) if array.nbytes <= RESIDENT_SHARE * free else tensor.pin_memory()
    if len(model.placed) >= PLACED_ARRAYS:
        model.placed.pop(next(iter(model.placed)))
    model.placed[id(array)] = (array, tensor)
    return tensor


def _rows(model: TorchModel, source: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """The rows ``index`` (a tensor on ``source``'s device) of ``source``, on the model's device."""
    rows = source.index_select(0, index)
    if rows.device != model.device:
        rows = rows.pin_memory().to(model.device, non_blocking=True)
    return rows


def _index(source: torch.Tensor, order: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(order, dtype=np.int64)).to(source.device)


class TorchBackend(Backend):
    name = "torch"

    def gpus(self) -> list[GPU]:
        return torch_gpus()

    def framework(self) -> str:
        return f"torch {torch.__version__} (CUDA {torch.version.cuda or 'none'})"

    def build(
        self, spec: ModelSpec, weights, precision: str = "fp32", seed: int = 0, sync=None, device: str = "cpu"
    ) -> TorchModel:
        place = torch.device(device)
        torch.manual_seed(seed)  # CPU and every GPU
        if place.type == "cuda":
            torch.cuda.set_device(place)
            set_tf32(precision == "tf32")
            fraction = os.environ.get(MEMORY_FRACTION)  # several trials packed onto this GPU
            if fraction:
                torch.cuda.set_per_process_memory_fraction(float(fraction), place)
        network = Network(build_modules(spec.infos(), weights)).to(place)
        optimizer = torch_optimizer(network.parameters(), spec.optimizer)
        scaler = torch.amp.GradScaler(place.type) if precision == "fp16" else None
        rate = spec.optimizer.learning_rate
        return TorchModel(spec, network, optimizer, precision, place, base_learning_rate=rate, sync=sync, scaler=scaler)

    def layer_table(self, model: TorchModel) -> list[tuple[str, str, int]]:
        rows = []
        for (kind, shape), module in zip(model.network.rows, model.network.layers, strict=True):
            count = sum(p.numel() for p in module.parameters()) + sum(b.numel() for b in module.buffers())
            rows.append((kind, shape, count))
        return rows

    def _autocast(self, model: TorchModel):
        dtype = AUTOCAST_TYPES.get(model.precision)
        return nullcontext() if dtype is None else torch.autocast(model.device.type, dtype=dtype)

    def train_epoch(
        self, model: TorchModel, x, y, batch_size: int, order: np.ndarray, on_batch: Callable[[], None]
    ) -> dict[str, float]:
        """One pass over ``x[order]``. Nothing waits for the device inside the loop: the loss sum
        and the outputs stay on the device and are read once, at the end of the epoch."""

        network, optimizer, spec = model.network, model.optimizer, model.spec
        heads = spec.heads
        network.train()
        x_all, y_all = _place(model, x), _place(model, y)
        x_order, y_order = _index(x_all, order), _index(y_all, order)
        total = torch.zeros((), dtype=torch.float64, device=model.device)
        outputs = []
        for start in range(0, len(order), batch_size):
            x_batch = _rows(model, x_all, x_order[start : start + batch_size])
            y_batch = _rows(model, y_all, y_order[start : start + batch_size])
            if spec.optimizer.decay:
                self._set_rate(model, model.base_learning_rate / (1 + spec.optimizer.decay * model.steps))
            optimizer.zero_grad(set_to_none=True)
            with self._autocast(model):
                output = network(x_batch)
            output = output.float()
            loss = _loss(spec.loss, heads, output, y_batch) + network.layer_losses()
            self._step(model, loss)
            model.steps += 1
            total += loss.detach() * len(x_batch)
            outputs.append(output.detach())
            on_batch()
        predictions = torch.cat(outputs).cpu().numpy()  # the epoch's one wait for the device
        values = evaluate(spec.loss, spec.train_metrics, y[order], predictions, heads=heads)
        values["loss"] = float(total) / len(order)
        return values

    def _step(self, model: TorchModel, loss: torch.Tensor) -> None:
        """Backward pass, gradient averaging across ranks, clipping and the optimizer step
        (with fp16's loss scaling around them)."""
        scaler = model.scaler
        (loss if scaler is None else scaler.scale(loss)).backward()
        if model.sync is not None:
            self._average_gradients(model)
        if scaler is not None:
            scaler.unscale_(model.optimizer)
        self._clip(model)
        if scaler is None:
            model.optimizer.step()
        else:
            scaler.step(model.optimizer)
            scaler.update()

    def _average_gradients(self, model: TorchModel) -> None:
        gradients = [p.grad for p in model.network.parameters() if p.grad is not None]
        if model.sync.device_memory:
            model.sync.average_gradients(gradients)
        elif model.device.type == "cpu":
            model.sync.average_gradients([g.numpy() for g in gradients])
        else:  # stage through host memory: one copy each way
            flat = torch.cat([g.reshape(-1) for g in gradients]).cpu()
            model.sync.average_gradients([flat.numpy()])
            flat = flat.to(model.device)
            torch._foreach_copy_(
                gradients,
                [
                    part.view_as(g)
                    for part, g in zip(flat.split([g.numel() for g in gradients]), gradients, strict=True)
                ],
            )

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
        return self.predict_samples(model, x, batch_size, 1 if monte_carlo else 0, layer)[0]

    @torch.no_grad()
    def predict_samples(
        self, model: TorchModel, x, batch_size: int, samples: int, layer: int | None = None
    ) -> np.ndarray:
        """(samples, rows, ...) Monte-Carlo predictions (``samples`` 0: one deterministic pass).
        Each batch's rows are repeated ``samples`` times in one forward pass, so that dropout
        draws independent masks for every copy and the device stays busy."""
        network = model.network
        if layer is not None and layer not in network.ends:
            raise CandleError(f"layer {layer}'s output is fused into the max-pool after it; ask for the pool's")
        network.eval()
        for module in network.modules():
            if hasattr(module, "monte_carlo"):  # dropout, and a VAE's sampling
                module.monte_carlo = samples > 0
        copies = max(1, samples)
        pass_rows = batch_size if model.device.type == "cpu" else max(batch_size, MC_PASS_ROWS)
        rows_per_pass = max(1, pass_rows // copies)
        source = _place(model, x)
        outputs = []
        for start in range(0, len(x), rows_per_pass):
            batch = _rows(model, source, _index(source, np.arange(start, min(start + rows_per_pass, len(x)))))
            if copies > 1:
                batch = batch.repeat(copies, *[1] * (batch.dim() - 1))
            with self._autocast(model):
                output = network(batch, upto=layer).float()
            outputs.append(output.reshape(copies, -1, *output.shape[1:]))
        return torch.cat(outputs, dim=1).cpu().numpy()

    def get_learning_rate(self, model: TorchModel) -> float:
        return float(model.optimizer.param_groups[0]["lr"])

    def _set_rate(self, model: TorchModel, value: float) -> None:
        for group in model.optimizer.param_groups:
            group["lr"] = value

    def set_learning_rate(self, model: TorchModel, value: float) -> None:
        model.base_learning_rate = value
        self._set_rate(model, value)

    def get_weights(self, model: TorchModel) -> list[np.ndarray]:
        return [tensor.detach().cpu().numpy().copy() for tensor in model.network.state_dict().values()]

    @torch.no_grad()
    def set_weights(self, model: TorchModel, weights: list[np.ndarray]) -> None:
        for tensor, array in zip(model.network.state_dict().values(), weights, strict=True):
            tensor.copy_(torch.from_numpy(np.ascontiguousarray(array)))

    def save(self, model: TorchModel, directory: Path, include_optimizer: bool = True) -> None:
        """Device-neutral files: every tensor is written from host memory, so a GPU run's
        checkpoint restarts on a CPU and the reverse."""
        state = {
            "network": {name: tensor.detach().cpu() for name, tensor in model.network.state_dict().items()},
            "rng": torch.get_rng_state(),
            "steps": model.steps,
            "base_learning_rate": model.base_learning_rate,
        }
        if model.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(model.device)
        if model.scaler is not None:
            state["scaler"] = model.scaler.state_dict()
        if include_optimizer:
            state["optimizer"] = _to_host(model.optimizer.state_dict())
        torch.save(state, directory / CHECKPOINT_FILE)

    def graph(self, model: TorchModel, input_shape: tuple[int, ...]) -> Any | None:
        """The network traced on one zero row (TensorBoard's own PyTorch graph converter)."""
        ensure_tensorboard_without_tensorflow()
        from torch.utils.tensorboard._pytorch_graph import graph

        network = model.network
        was_training = network.training
        network.eval()
        try:
            with torch.no_grad():
                return graph(network, (torch.zeros((1, *input_shape), device=model.device),))[0]
        finally:
            network.train(was_training)

    def profiler(self, model: TorchModel, folder: Path) -> AbstractContextManager[Any]:
        return torch_profile(folder, cuda=model.device.type == "cuda")

    def load(self, model: TorchModel, directory: Path) -> None:
        state = torch.load(directory / CHECKPOINT_FILE, weights_only=True, map_location=model.device)
        model.network.load_state_dict(state["network"])
        if "optimizer" in state:
            model.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"].cpu())
        if model.device.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"].cpu(), model.device)
        if model.scaler is not None and "scaler" in state:
            model.scaler.load_state_dict(state["scaler"])
        model.steps = int(state["steps"])
        model.base_learning_rate = float(state["base_learning_rate"])


def _to_host(value):
    """``value`` (an optimizer's state dict) with every tensor copied to host memory."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {key: _to_host(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_to_host(item) for item in value)
    return value

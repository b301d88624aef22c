"""Adam and RMSprop with Keras 3's update formulas, so both backends take the same steps.

torch's own differ where epsilon enters: torch's Adam adds epsilon after the bias correction of
the second moment (Keras before it) and torch's RMSprop adds it outside the square root (Keras
inside), which matters early in training, when the moments are small. SGD, Adagrad and
Adadelta of torch already match Keras (given Keras' initial accumulator of 0.1 for Adagrad).
"""

from __future__ import annotations

import math

import torch


def _with_state(optimizer: torch.optim.Optimizer, group: dict, names: tuple[str, ...]) -> tuple[list, list, list]:
    """The group's parameters that have gradients, their gradients, and their states (created
    with zero tensors ``names`` and a step count on first use)."""
    params = [p for p in group["params"] if p.grad is not None]
    states = [optimizer.state[p] for p in params]
    for p, state in zip(params, states, strict=True):
        if not state:
            state["step"] = 0
            for name in names:
                state[name] = torch.zeros_like(p)
        state["step"] += 1
    return params, [p.grad for p in params], states


class KerasAdam(torch.optim.Optimizer):
    def __init__(self, params, lr: float, beta_1: float, beta_2: float, epsilon: float):
        super().__init__(params, {"lr": lr, "beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            params, grads, states = _with_state(self, group, ("m", "v"))
            if not params:
                continue
            t = states[0]["step"]
            m, v = [s["m"] for s in states], [s["v"] for s in states]
            torch._foreach_lerp_(m, grads, 1 - group["beta_1"])
            torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), 1 - group["beta_2"])
            alpha = group["lr"] * math.sqrt(1 - group["beta_2"] ** t) / (1 - group["beta_1"] ** t)
            denominator = torch._foreach_add(torch._foreach_sqrt(v), group["epsilon"])
            torch._foreach_addcdiv_(params, m, denominator, value=-alpha)


class KerasRMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr: float, rho: float, momentum: float, epsilon: float):
        super().__init__(params, {"lr": lr, "rho": rho, "momentum": momentum, "epsilon": epsilon})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            params, grads, states = _with_state(self, group, ("v", "m"))
            if not params:
                continue
            v = [s["v"] for s in states]
            torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), 1 - group["rho"])
            increment = torch._foreach_div(grads, torch._foreach_sqrt(torch._foreach_add(v, group["epsilon"])))
            torch._foreach_mul_(increment, group["lr"])
            if group["momentum"]:
                m = [s["m"] for s in states]
                torch._foreach_mul_(m, group["momentum"])
                torch._foreach_add_(m, increment)
                increment = m
            torch._foreach_sub_(params, increment)

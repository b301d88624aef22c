"""Handing a node's GPUs to the trials of a search (``--gpus-per-trial``, ``--trials-per-gpu``).

Evaluators run each trial in a process of its own; before it starts, the trial gets its slot's
``CUDA_VISIBLE_DEVICES`` (so it sees only its own GPUs, as cuda:0, cuda:1, ...) and, when
several trials share one GPU, the share of its memory each may take (torch:
``CANDLE_GPU_MEMORY_FRACTION``, read by the torch backend; JAX:
``XLA_PYTHON_CLIENT_MEM_FRACTION``; TensorFlow: memory growth, since it has no fraction variable).
A trial never sees another slot's GPU. Without GPUs on the node, trials get
``CUDA_VISIBLE_DEVICES=""`` only when GPUs were asked for explicitly (an error otherwise).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from candle_core.errors import CandleError

VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES"
MEMORY_FRACTION = "CANDLE_GPU_MEMORY_FRACTION"
SLOT = "CANDLE_GPU_SLOT"  # set in a trial that got its GPUs from a slot: the gpus keyword is spent


def node_gpus(requested: Sequence[str] | None = None) -> list[str]:
    """The GPU ids trials may use on this node: ``requested`` (the ``gpus`` keyword), else the
    ids in CUDA_VISIBLE_DEVICES when it is set, else the driver's GPUs (``nvidia-smi -L``)."""
    if requested:
        return [str(g) for g in requested]
    visible = os.environ.get(VISIBLE_DEVICES)
    if visible is not None:
        return [part.strip() for part in visible.split(",") if part.strip() and part.strip() != "-1"]
    return [str(i) for i in range(len(driver_gpus()))]


def driver_gpus() -> list[str]:
    """``nvidia-smi -L`` lines: the driver's GPUs, whatever a framework sees (none without a driver)."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return []
    try:
        listing = subprocess.run([tool, "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in listing.splitlines() if line.startswith("GPU ")]


@dataclass(frozen=True)
class GpuSlot:
    """The GPUs of one running trial and its share of their memory (1.0: whole GPUs)."""

    devices: tuple[str, ...]
    memory_fraction: float = 1.0

    def environment(self) -> dict[str, str]:
        """Variables the trial's process starts with."""
        variables = {VISIBLE_DEVICES: ",".join(self.devices), SLOT: ",".join(self.devices)}
        if self.memory_fraction < 1.0:
            fraction = f"{self.memory_fraction:.4f}"
            variables |= {
                MEMORY_FRACTION: fraction,
                "XLA_PYTHON_CLIENT_MEM_FRACTION": fraction,
                "TF_FORCE_GPU_ALLOW_GROWTH": "true",
            }
        return variables


@dataclass(frozen=True)
class GpuRequest:
    """What the search asked for: GPUs per trial (None: 1 when the node has GPUs, else 0) and
    trials packed onto one GPU."""

    gpus_per_trial: int | None = None
    trials_per_gpu: int = 1
    ids: tuple[str, ...] | None = None  # the gpus keyword: which of the node's GPUs to use

    def __post_init__(self) -> None:
        if self.gpus_per_trial is not None and self.gpus_per_trial < 0:
            raise CandleError(f"--gpus-per-trial {self.gpus_per_trial}: give 0 (CPU trials) or more")
        if self.trials_per_gpu < 1:
            raise CandleError(f"--trials-per-gpu {self.trials_per_gpu}: give 1 or more")
        if self.trials_per_gpu > 1 and (self.gpus_per_trial or 1) > 1:
            raise CandleError(
                "--trials-per-gpu packs trials onto one GPU each; it cannot combine with --gpus-per-trial > 1"
            )

    @property
    def explicit(self) -> bool:
        return self.gpus_per_trial is not None or self.trials_per_gpu > 1

    def node_slots(self) -> list[GpuSlot]:
        """The GPU slots of this node."""
        return self.slots(node_gpus(self.ids))

    def trial_environment(self, slot: GpuSlot | None) -> dict[str, str]:
        """The variables a trial starts with: its slot's, or none of the GPUs when it has no slot
        and GPUs were handed out (or refused) explicitly."""
        if slot is not None:
            return slot.environment()
        return cpu_only() if self.explicit else {}

    def slots(self, gpus: Sequence[str]) -> list[GpuSlot]:
        """The GPU slots of a node with ``gpus``: as many trials may run at once on it."""
        per_trial = (1 if gpus else 0) if self.gpus_per_trial is None else self.gpus_per_trial
        if per_trial == 0:
            return []
        if len(gpus) < per_trial:
            found = ", ".join(gpus) if gpus else "none"
            raise CandleError(
                f"--gpus-per-trial {per_trial}: this node has {len(gpus)} GPU(s) for trials ({found}); "
                "use fewer, or --gpus-per-trial 0 for CPU trials"
            )
        groups = [tuple(gpus[i : i + per_trial]) for i in range(0, len(gpus) - per_trial + 1, per_trial)]
        fraction = 1.0 / self.trials_per_gpu
        # slot order spreads trials over GPUs before packing a second one onto any
        return [GpuSlot(group, fraction) for _ in range(self.trials_per_gpu) for group in groups]


def cpu_only() -> dict[str, str]:
    """The environment of a trial that must not touch a GPU."""
    return {VISIBLE_DEVICES: ""}

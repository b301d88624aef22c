"""Which device a run trains on, decided once here and handed to the backend.

The ``device`` keyword: ``auto`` (default: this rank's GPU when the backend sees one, else the
CPU), ``cpu``, ``cuda`` (this rank's GPU; an error when none is visible) or ``cuda:N``. A rank's
GPU is chosen by its node-local rank (MPI's shared-memory split communicator, whatever the
launcher), among the GPUs listed in ``gpus`` when given, else among all the backend sees. The
core never imports a framework: the backend reports the GPUs it sees (``Backend.gpus``) and
places the model and data on the device string chosen here (``"cpu"`` or ``"cuda:N"``).

``precision``: ``fp32`` (the reference; TF32 off), ``tf32`` (TensorFloat-32 matrix products on
GPUs), ``bf16`` (bfloat16 autocast, float32 weights) or ``fp16`` (float16 autocast with loss
scaling). TF32 has no meaning on a CPU: there it runs as fp32, with a warning.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from candle_core.errors import CandleError, warn_user
from candle_core.launch import launched_ranks

DEVICE_CHOICES = "auto, cpu, cuda or cuda:N"
PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
_DEVICE = re.compile(r"^(auto|cpu|cuda)(?::(\d+))?$")


@dataclass(frozen=True)
class GPU:
    """One GPU as a framework sees it (``index`` among the visible ones)."""

    index: int
    name: str
    memory_bytes: int

    def describe(self) -> str:
        return f"cuda:{self.index} {self.name} ({self.memory_bytes / 2**30:.1f} GiB)"


def parse_device(text: Any) -> tuple[str, int | None]:
    """``("auto"|"cpu"|"cuda", index or None)`` for a ``device`` value; a CandleError otherwise."""
    match = _DEVICE.match(str(text).strip().lower())
    if match is None or (match.group(2) is not None and match.group(1) != "cuda"):
        raise CandleError(f"device '{text}': expected {DEVICE_CHOICES}")
    return match.group(1), None if match.group(2) is None else int(match.group(2))


def device_text(text: Any) -> str:
    """The ``device`` keyword's type: the value as written, checked (ValueError names the forms)."""
    try:
        parse_device(text)
    except CandleError:
        raise ValueError(DEVICE_CHOICES) from None
    return str(text).strip().lower()


device_text.expected = f"device ({DEVICE_CHOICES})"  # type: ignore[attr-defined]


def choose_device(
    requested: Any, visible: Sequence[GPU], local_rank: int = 0, allowed: Sequence[int] | None = None
) -> str:
    """The device string for this rank: ``"cpu"`` or ``"cuda:N"``.

    ``visible``: the GPUs the backend sees; ``allowed``: the ``gpus`` keyword (indices among the
    visible ones), or None for all; ``local_rank``: this rank's index among the ranks of its node,
    so that the ranks of a node take different GPUs (round robin when there are more ranks).
    """
    kind, index = parse_device(requested)
    if kind == "cpu":
        return "cpu"
    indices = [gpu.index for gpu in visible]
    if allowed:
        missing = [i for i in allowed if i not in indices]
        if missing and visible:
            raise CandleError(
                f"gpus {' '.join(map(str, allowed))}: GPU {missing[0]} is not visible "
                f"(visible: {', '.join(map(str, indices))}; CUDA_VISIBLE_DEVICES renumbers them from 0)"
            )
        indices = [i for i in allowed if i in indices]
    if not indices:
        if kind == "auto":
            return "cpu"
        raise CandleError(
            f"device {requested}: no GPU is visible to this backend ({_visibility()}); use --device cpu or auto"
        )
    if index is not None:
        if index not in indices:
            raise CandleError(f"device {requested}: no such GPU (visible: {', '.join(f'cuda:{i}' for i in indices)})")
        return f"cuda:{index}"
    return f"cuda:{indices[local_rank % len(indices)]}"


def _visibility() -> str:
    value = os.environ.get("CUDA_VISIBLE_DEVICES")
    return "CUDA_VISIBLE_DEVICES is unset" if value is None else f"CUDA_VISIBLE_DEVICES={value!r}"


def check_precision(precision: Any, device: str) -> list[str]:
    """Refuse an unknown precision; return warnings for one that has no effect on ``device``."""
    if precision not in PRECISIONS:
        raise CandleError(f"precision '{precision}' is not one of {', '.join(PRECISIONS)}")
    if precision == "tf32" and not device.startswith("cuda"):
        return ["precision tf32 has no effect on the CPU: TensorFloat-32 is a GPU format; training runs in fp32"]
    return []


def node_local_rank() -> int:
    """This process's index among the MPI ranks on its node (0 outside an MPI launch). Uses MPI's
    shared-memory split, so it is right under mpiexec, srun and any other launcher."""

    if launched_ranks() <= 1:
        return 0
    from mpi4py import MPI

    node = MPI.COMM_WORLD.Split_type(MPI.COMM_TYPE_SHARED)
    rank = node.Get_rank()
    node.Free()
    return rank


def resolve_device(params: Mapping[str, Any], visible: Sequence[GPU]) -> str:
    """The run's device from its ``device`` and ``gpus`` keywords and this rank's place on its node."""
    requested = params.get("device") or "auto"
    kind, _ = parse_device(requested)
    if kind == "cpu" or not visible and kind == "auto":
        return "cpu"
    # in a search trial the evaluator already narrowed the GPUs to the trial's slot (gpu_slots)
    allowed = None if os.environ.get("CANDLE_GPU_SLOT") else params.get("gpus")
    return choose_device(requested, visible, node_local_rank(), allowed)


def device_record(device: str, visible: Sequence[GPU], precision: str) -> dict[str, Any]:
    """What results.json says about where the run trained."""
    record: dict[str, Any] = {"device": device, "precision": precision}
    for name, key in (
        ("CUDA_VISIBLE_DEVICES", "cuda_visible_devices"),
        ("CANDLE_GPU_MEMORY_FRACTION", "memory_fraction"),
    ):
        if name in os.environ:  # a search's GPU slot (candle_core.gpu_slots)
            record[key] = os.environ[name]
    if device.startswith("cuda"):
        index = int(device.split(":")[1])
        gpu = next((g for g in visible if g.index == index), None)
        if gpu is not None:
            record |= {"gpu": asdict(gpu) | {"memory_gib": round(gpu.memory_bytes / 2**30, 2)}}
    return record


def place(backend: Any, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """This rank's device for ``backend`` (which reports the GPUs it sees) and what results.json
    records about it; warns about a precision that has no effect there."""
    visible = backend.gpus()
    device = resolve_device(params, visible)
    precision = params.get("precision", "fp32")
    for message in check_precision(precision, device):
        warn_user(message)
    return device, device_record(device, visible, precision)

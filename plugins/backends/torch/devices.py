"""torch's GPU facts and switches (used by the torch backend and by Keras on its torch engine)."""

from __future__ import annotations

import torch

from candle_core.device import GPU


def torch_gpus() -> list[GPU]:
    if not torch.cuda.is_available():
        return []
    found = []
    for index in range(torch.cuda.device_count()):
        properties = torch.cuda.get_device_properties(index)
        found.append(GPU(index, properties.name, int(properties.total_memory)))
    return found


def set_tf32(enabled: bool) -> None:
    """TensorFloat-32 matrix products and convolutions on, or IEEE float32 (candle's fp32 reference:
    torch's own default lets convolutions use TF32)."""
    mode = "tf32" if enabled else "ieee"
    torch.backends.cuda.matmul.fp32_precision = mode
    torch.backends.cudnn.conv.fp32_precision = mode

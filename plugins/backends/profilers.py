"""The frameworks' own profilers as context managers, one per framework, shared by the backends
that run on it (the torch backend, Keras on its torch, TensorFlow or JAX engine).

PyTorch writes a Chrome trace (``*.pt.trace.json``: Perfetto, chrome://tracing); TensorFlow and
JAX write TensorBoard's profile format (``plugins/profile/<time>/*.xplane.pb``: TensorBoard with
``tensorboard-plugin-profile``, or Perfetto from the trace it converts).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def torch_profile(folder: Path, cuda: bool) -> Iterator[None]:
    """torch.profiler over the block (CPU, and CUDA kernels when ``cuda``), shapes recorded."""
    from torch.profiler import ProfilerActivity, profile, tensorboard_trace_handler

    activities = [ProfilerActivity.CPU, *([ProfilerActivity.CUDA] if cuda else [])]
    folder.mkdir(parents=True, exist_ok=True)
    with profile(activities=activities, record_shapes=True, on_trace_ready=tensorboard_trace_handler(str(folder))):
        yield


@contextmanager
def tensorflow_profile(folder: Path) -> Iterator[None]:
    """TensorFlow's profiler over the block."""
    import tensorflow as tf

    folder.mkdir(parents=True, exist_ok=True)
    tf.profiler.experimental.start(str(folder))
    try:
        yield
    finally:
        tf.profiler.experimental.stop()


@contextmanager
def jax_profile(folder: Path) -> Iterator[None]:
    """JAX's profiler over the block."""
    import jax

    folder.mkdir(parents=True, exist_ok=True)
    with jax.profiler.trace(str(folder)):
        yield

"""The PyTorch backend (``--backend torch``). torch is imported only when the backend is used."""

from __future__ import annotations

from candle_core import hookimpl


def _load():
    from candle_plugins.backends.torch.backend import TorchBackend

    return TorchBackend()


@hookimpl
def candle_backends():
    return {"torch": _load}

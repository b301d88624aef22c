"""The Keras 3 backend on TensorFlow (``--backend keras``). Imported only when used."""

from __future__ import annotations

from candle_core import hookimpl


def _load():
    from candle_plugins.backends.keras.backend import KerasBackend

    return KerasBackend()


@hookimpl
def candle_backends():
    return {"keras": _load}

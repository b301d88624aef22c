"""The communicators candle ships, by name (hook ``candle_communicators``). Horovod and
torch.distributed load their frameworks only when chosen."""

from __future__ import annotations

from candle_core import hookimpl
from candle_plugins.comm.mpi import MPICommunicator
from candle_plugins.comm.ring import RingCommunicator


def _mpi():
    return MPICommunicator()


def _ring():
    return RingCommunicator()


def _horovod():
    from candle_plugins.comm.horovod import HorovodCommunicator

    return HorovodCommunicator()


def _torch_distributed(name: str):
    def factory():
        from candle_plugins.comm.torch_dist import TorchDistributedCommunicator

        return TorchDistributedCommunicator(name)

    return factory


@hookimpl
def candle_communicators():
    return {
        "mpi": _mpi,
        "ring": _ring,
        "horovod": _horovod,
        "nccl": _torch_distributed("nccl"),
        "gloo": _torch_distributed("gloo"),
    }

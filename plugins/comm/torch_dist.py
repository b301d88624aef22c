"""The ``nccl`` and ``gloo`` communicators: torch.distributed collectives, started by MPI.

``mpiexec -n P candle run BENCH --comm nccl`` (or ``srun``) is all it takes: rank 0 picks a free
TCP port on its host and the address goes to the other ranks through mpi4py, so no
MASTER_ADDR/MASTER_PORT or torchrun is needed. ``nccl`` reduces GPU tensors where they lie
(each rank on its own GPU, chosen by its node-local rank; see ``candle_core.device``); ``gloo``
is the same path on CPUs, which is how CI tests it. Both take the torch backend's tensors
directly (``device_memory``) and numpy buffers too (copied to the device and back for nccl).
The ranks' buffers are compared first through mpi4py, as for the other communicators, so a
mismatch or a silent peer fails the same way on every rank.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from datetime import timedelta

import numpy as np

from candle_core.comm import agree, check_op
from candle_core.contracts import Communicator
from candle_core.errors import CandleError, PeerLost


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("", 0))
        return probe.getsockname()[1]


def _address() -> str:
    """This host's address as the other nodes reach it (its name's address, else loopback)."""
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def _floating(buffer) -> bool:
    if isinstance(buffer, np.ndarray):
        return np.issubdtype(buffer.dtype, np.floating)
    return buffer.dtype.is_floating_point


class TorchDistributedCommunicator(Communicator):
    device_memory = True

    def __init__(self, name: str) -> None:
        import torch
        import torch.distributed as dist
        from mpi4py import MPI

        if name == "nccl" and not (torch.cuda.is_available() and dist.is_nccl_available()):
            raise CandleError("--comm nccl needs GPUs and torch built with NCCL; on CPUs use --comm gloo")
        self.name, self.torch, self.dist = name, torch, dist
        self.comm = MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.device = torch.device("cpu")
        self._started = False

    @property
    def mpi_comm(self):
        return self.comm

    def use_device(self, device: str) -> None:
        if self.name == "nccl":
            if not device.startswith("cuda"):
                raise CandleError(
                    f"--comm nccl: this rank trains on {device}; NCCL needs --device cuda (or auto on a GPU)"
                )
            self.device = self.torch.device(device)
            self.torch.cuda.set_device(self.device)

    def _group(self):
        """torch.distributed's default group, started on first use (rendezvous over mpi4py)."""
        if not self._started:
            if not self.dist.is_initialized():
                address = self.comm.bcast((_address(), _free_port()) if self.rank == 0 else None, root=0)
                self.dist.init_process_group(
                    self.name,
                    init_method=f"tcp://{address[0]}:{address[1]}",
                    rank=self.rank,
                    world_size=self.size,
                    timeout=timedelta(seconds=self.timeout),
                )
            self._started = True
        return self.dist.group.WORLD

    def _tensors(self, buffers: Sequence) -> tuple[list, list]:
        """(tensors to reduce on the device, (numpy buffer, tensor) pairs to copy back)."""
        tensors, copies = [], []
        for buffer in buffers:
            if isinstance(buffer, np.ndarray):
                tensor = self.torch.from_numpy(buffer)  # shares memory: gloo reduces in place
                if tensor.device != self.device:
                    tensor = tensor.to(self.device)
                    copies.append((buffer, tensor))
                tensors.append(tensor)
            else:
                tensors.append(buffer)
        return tensors, copies

    def _collective(self, what: str, run) -> None:
        try:
            run()
        except RuntimeError as exc:  # gloo/NCCL report a lost or timed-out peer this way
            raise PeerLost(f"rank {self.rank}: {self.name} {what} failed: {exc}") from None

    def allreduce(self, buffers: Sequence, op: str = "sum") -> None:
        check_op(op)
        agree(self.comm, buffers, f"{self.name} allreduce", self.timeout)
        if op == "average" and not all(_floating(b) for b in buffers):
            raise CandleError(f"{self.name} allreduce: 'average' needs floating-point buffers")
        group = self._group()
        tensors, copies = self._tensors(buffers)
        fused = self.torch.cat([t.reshape(-1) for t in tensors]) if len(tensors) > 1 else tensors[0].reshape(-1)
        self._collective("allreduce", lambda: self.dist.all_reduce(fused, group=group))
        if op == "average":
            fused /= self.size
        if len(tensors) > 1 or fused.data_ptr() != tensors[0].data_ptr():
            parts = fused.split([t.numel() for t in tensors])
            for tensor, part in zip(tensors, parts, strict=True):
                tensor.copy_(part.view_as(tensor))
        for buffer, tensor in copies:
            buffer[...] = tensor.cpu().numpy()

    def broadcast(self, buffers: Sequence, root: int = 0) -> None:
        agree(self.comm, buffers, f"{self.name} broadcast", self.timeout)
        group = self._group()
        tensors, copies = self._tensors(buffers)
        for tensor in tensors:
            self._collective("broadcast", lambda t=tensor: self.dist.broadcast(t, src=root, group=group))
        for buffer, tensor in copies:
            buffer[...] = tensor.cpu().numpy()

    def barrier(self) -> None:
        agree(self.comm, [], f"{self.name} barrier", self.timeout)

"""``candle env``: what this machine offers candle — backends, their frameworks and the GPUs they
see, CUDA_VISIBLE_DEVICES, the driver's own GPU list, and the MPI launcher."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any

from candle_core.gpu_slots import driver_gpus
from candle_core.launch import find_mpiexec


def _backend_report(name: str, factory: Any) -> dict[str, Any]:
    try:
        backend = factory()
        return {
            "backend": name,
            "framework": backend.framework(),
            "gpus": [gpu.describe() for gpu in backend.gpus()],
            "status": "ok",
        }
    except Exception as exc:  # a backend whose framework is missing or broken is reported, not fatal
        return {"backend": name, "framework": "", "gpus": [], "status": f"unavailable: {type(exc).__name__}: {exc}"}


def environment_report(manager: Any) -> dict[str, Any]:
    return {
        "candle": metadata.version("candle"),
        "python": platform.python_version(),
        "host": platform.node(),
        "cpu_cores": os.cpu_count(),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "driver_gpus": driver_gpus(),
        "mpiexec": find_mpiexec(),
        "backends": [
            _backend_report(name, factory) for name, (factory, _) in sorted(manager.components("backend").items())
        ],
        "communicators": sorted(manager.components("comm")),
    }


def print_report(report: dict[str, Any]) -> None:
    print(f"candle {report['candle']} on {report['host']} (python {report['python']}, {report['cpu_cores']} cores)")
    visible = report["cuda_visible_devices"]
    print(f"CUDA_VISIBLE_DEVICES: {'unset' if visible is None else repr(visible)}")
    driver = report["driver_gpus"]
    print("driver GPUs (nvidia-smi -L): " + ("none" if not driver else ""))
    for line in driver:
        print(f"  {line}")
    for entry in report["backends"]:
        gpus = ", ".join(entry["gpus"]) or "no GPU (trains on the CPU)"
        if entry["status"] != "ok":
            gpus = entry["status"]
        print(f"backend {entry['backend']}: {entry['framework'] or '-'}: {gpus}")
    print(f"mpiexec: {report['mpiexec'] or 'not found'}; communicators: {', '.join(report['communicators'])}")

"""Container runtimes: how each one builds an image from a context folder and runs a command in it.

Each runtime turns (image, command, folders to bind, environment) into its own command line;
``candle container exec`` binds the data and output roots at the same paths as on the host,
so results name real host paths, and passes candle's and MPI's environment through (hybrid
model: ``mpiexec -n N candle container exec IMAGE -- candle run ...`` starts one container per
rank, which joins the host's MPI job through the PMI variables and descriptors it inherits).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from candle_core import hookimpl
from candle_core.contracts import Runtime
from candle_core.errors import CandleError

# passed into the container: candle's settings, thread budgets, and what an MPI process needs
# to join the job that started it
PASSED_PREFIXES = ("CANDLE_", "PMI_", "PMIX_", "HYDI_", "HYDRA_", "MPIR_", "OMPI_", "SLURM_")
PASSED_NAMES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def passed_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k.startswith(PASSED_PREFIXES) or k in PASSED_NAMES}


def same_path_binds(flag: str, folders: Sequence[Path]) -> list[str]:
    """``flag HOST:HOST`` for each folder: bound at the same path inside."""
    return [word for folder in folders for word in (flag, f"{folder}:{folder}")]


def variables(flag: str, env: Mapping[str, str]) -> list[str]:
    """``flag KEY`` for each variable: the runtime copies the value from its own environment
    (``process_environment``), so values never show on a command line (``ps``)."""
    return [word for key in env for word in (flag, key)]


class Podman(Runtime):
    """podman; on our machines (podman 4.3 as root) only with runc and explicit ulimits."""

    name = executable = "podman"
    OPTIONS = ("--runtime", "runc", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096")
    gpu_flags = ("--device", "nvidia.com/gpu=all")  # CDI (nvidia-ctk cdi generate on the host)

    def build_command(self, context: Path, recipe: Path, tag: str) -> list[str]:
        return [self.executable, "build", *self.OPTIONS, "--network", "host", "-f", str(recipe), "-t", tag, "."]

    def prepare_exec(self, env: dict[str, str]) -> None:
        # podman passes descriptors 3..3+N-1 only, all of which must be open: move hydra's to 3
        if "PMI_FD" in env and env["PMI_FD"] != "3":
            os.dup2(int(env["PMI_FD"]), 3, inheritable=True)
            env["PMI_FD"] = "3"

    def exec_command(self, image, command, binds, env, workdir, gpu=False) -> list[str]:
        line = [self.executable, "run", "--rm", "-i", *self.OPTIONS, "--network", "host", "--ipc", "host"]
        line += ["--pid", "host", "-w", str(workdir), *(self.gpu_flags if gpu else ())]
        if "PMI_FD" in env:  # hydra talks to a local rank through an inherited descriptor (see prepare_exec)
            line += [f"--preserve-fds={int(env['PMI_FD']) - 2}"]
        return [*line, *same_path_binds("-v", binds), *variables("-e", env), image, *command]


class Docker(Podman):
    name = executable = "docker"
    OPTIONS = ()
    gpu_flags = ("--gpus", "all")  # the NVIDIA container toolkit

    def available(self) -> bool:
        return (
            super().available()
            and subprocess.run([self.executable, "info"], capture_output=True, timeout=30).returncode == 0
        )


class Apptainer(Runtime):
    """Apptainer (or Singularity): builds a SIF from the definition file; runs SIF or SquashFS images."""

    name = executable = "apptainer"
    gpu_flags = ("--nv",)

    def build_command(self, context: Path, recipe: Path, tag: str) -> list[str]:
        image = tag if tag.endswith(".sif") else f"{tag}.sif"
        return [self.executable, "build", str(Path(image).absolute()), str(recipe)]

    def exec_command(self, image, command, binds, env, workdir, gpu=False) -> list[str]:
        line = [self.executable, "exec", "--pwd", str(workdir), *(self.gpu_flags if gpu else ())]
        return [*line, *same_path_binds("--bind", binds), image, *command]

    def process_environment(self, env: Mapping[str, str]) -> dict[str, str]:
        # APPTAINERENV_KEY (SINGULARITYENV_KEY) sets KEY inside, whatever the image's own value
        return self.environment() | {f"{self.name.upper()}ENV_{key}": value for key, value in env.items()}


class Singularity(Apptainer):
    name = executable = "singularity"


class Charliecloud(Runtime):
    """Charliecloud: ``ch-image`` builds (it must run under the system Python, with
    ``CH_IMAGE_STORAGE`` and ``USER`` set); ``ch-run`` runs an image by its name in that storage,
    or a SquashFS file made by ``ch-convert``."""

    name = "charliecloud"
    executable = "ch-image"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("CH_IMAGE_STORAGE", str(Path("~/.candle/charliecloud").expanduser()))
        env.setdefault("USER", "root" if os.geteuid() == 0 else "candle")
        return env

    def _ch_image(self) -> list[str]:
        return ["/usr/bin/python3", shutil.which(self.executable) or self.executable]

    def build_command(self, context: Path, recipe: Path, tag: str) -> list[str]:
        return [*self._ch_image(), "build", "--force", "-t", tag, "-f", str(recipe), "."]

    def runnable(self, image: str) -> str:
        """A SquashFS file or directory image as it is; an image of ch-image's storage exported
        (once per build, ~10 s) to a directory beside it: ch-run runs storage images only
        read-only, and then cannot make the mount points of folders the image lacks."""
        if Path(image).exists():
            return image
        env = self.environment()
        storage = Path(env["CH_IMAGE_STORAGE"])
        stored = storage / "img" / image.replace("/", "%").replace(":", "+")
        if not stored.is_dir():
            raise CandleError(f"charliecloud: no image '{image}' in {storage} (ch-image list shows what is there)")
        exported = storage.parent / f"{storage.name}-run" / stored.name
        exported.parent.mkdir(parents=True, exist_ok=True)
        with open(exported.parent / f".{stored.name}.lock", "w") as lock:  # ranks of one job export once
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not exported.is_dir() or exported.stat().st_mtime < stored.stat().st_mtime:
                shutil.rmtree(exported, ignore_errors=True)
                command = ["ch-convert", "-i", "ch-image", "-o", "dir", image, str(exported)]
                if subprocess.run(command, env=env, stdout=subprocess.DEVNULL).returncode != 0:
                    raise CandleError(f"charliecloud: ch-convert could not export '{image}' to {exported}")
        return str(exported)

    def gpu_note(self) -> str:
        return (
            "charliecloud has no exec flag for GPUs: inject the host's NVIDIA libraries into the image once "
            "with 'ch-fromhost --nvidia IMAGE' (then --gpu is not needed)"
        )

    def exec_command(self, image, command, binds, env, workdir, gpu=False) -> list[str]:
        # --set-env: the image's own ENV (its PATH); -w: a directory image gets its mount points made
        line = ["ch-run", "--set-env", "-c", str(workdir), *(["-w"] if Path(image).is_dir() else [])]
        return [*line, *same_path_binds("-b", binds), image, "--", *command]


RUNTIMES: dict[str, type[Runtime]] = {
    "podman": Podman,
    "apptainer": Apptainer,
    "singularity": Singularity,
    "charliecloud": Charliecloud,
    "docker": Docker,
}


@hookimpl
def candle_container_runtimes():
    return dict(RUNTIMES)

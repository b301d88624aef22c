"""Sub-jobs, MPI_Comm_launch style: run a command as a new MPI job on exactly the processes of a
communicator, wait for it, and hand its exit code to every one of those processes.

``launch(command, comm)`` is collective over ``comm``. Its first rank starts the launcher
(MPICH's hydra ``mpiexec -hosts``, Open MPI's ``mpiexec --host``, or ``srun`` with an arbitrary
host list inside a Slurm allocation) with one slot per rank of ``comm`` on that rank's host, in
a new session and with the parent's MPI/PMI environment removed, so that the child is a job of
its own rather than a part of the parent's. The parent ranks sleep while the child runs (its
processes use the parents' cores). A crashing child never takes the parents down: its exit code
comes back, negative when a process of it was killed by a signal (-9 for SIGKILL), and
``TIMED_OUT`` (124) when it outlived ``timeout`` and was killed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from candle_core.errors import CandleError

TIMED_OUT = 124
POLL_SECONDS = 0.05
KILL_GRACE_SECONDS = 5.0
# what launchers print when a process of the job died by a signal
SIGNAL_PATTERNS = (
    re.compile(rb"EXIT STRING: .*\(signal (\d+)\)"),  # MPICH hydra
    re.compile(rb"exited on signal (\d+)"),  # Open MPI
)
# the parent job's identity, which a child launcher must not inherit
SCRUBBED_PREFIXES = ("PMI_", "PMIX_", "HYDRA_", "HYDI_", "OMPI_", "PRTE_", "OPAL_", "MPI_LOCAL", "SLURM_STEP_")
SCRUBBED_NAMES = ("SLURM_PROCID", "SLURM_LOCALID", "SLURM_NODEID", "SLURM_TASK_PID")


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment without the variables by which a launcher tells a process its job.

    User settings of Open MPI (``OMPI_MCA_*``) stay, except those the launcher itself sets.
    """

    def keep(name: str) -> bool:
        if name.startswith("OMPI_MCA_"):
            return not any(word in name for word in ("ess", "orte", "pmix", "prte", "ras", "plm"))
        return not name.startswith(SCRUBBED_PREFIXES) and name not in SCRUBBED_NAMES

    return {name: value for name, value in environ.items() if keep(name)}


def slots(hosts: Sequence[str]) -> list[tuple[str, int]]:
    """(host, count) in order of first appearance, from one host name per rank."""
    counts: dict[str, int] = {}
    for host in hosts:
        counts[host] = counts.get(host, 0) + 1
    return list(counts.items())


def find_mpiexec() -> str | None:
    """The mpiexec beside the running Python (a venv's MPICH from pip), else on PATH."""
    return shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")


def launcher_command(command: Sequence[str], hosts: Sequence[str], launcher: str | None = None) -> list[str]:
    """The command line that starts ``command`` with one process per entry of ``hosts``.

    ``launcher``: "hydra", "openmpi" or "srun"; by default srun inside a Slurm allocation,
    otherwise whichever mpiexec is found (its ``--version`` tells hydra from Open MPI).
    """
    n, placed = len(hosts), slots(hosts)
    if launcher is None:
        launcher = os.environ.get("CANDLE_LAUNCHER") or _detect_launcher()
    if launcher == "srun":  # arbitrary distribution: one node per task; --overlap: the parents' cores
        nodes = ",".join(hosts)
        return ["srun", "--overlap", f"--ntasks={n}", f"--nodelist={nodes}", *srun_step_options(), *command]
    mpiexec = find_mpiexec()
    if mpiexec is None:
        raise CandleError("launch: no mpiexec found beside Python or on PATH (pip install 'candle[mpi]')")
    if launcher == "hydra":
        return [mpiexec, "-n", str(n), "-hosts", ",".join(f"{h}:{c}" for h, c in placed), *command]
    if launcher == "openmpi":
        extra = ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
        return [mpiexec, "-n", str(n), "--host", ",".join(f"{h}:{c}" for h, c in placed), *extra, *command]
    raise CandleError(f"launch: unknown launcher '{launcher}'; use hydra, openmpi or srun")


def srun_step_options() -> list[str]:
    """srun options every sub-job step of candle shares: the tasks on the nodes as listed, the
    PMI (``CANDLE_SRUN_MPI``, else the one the parent step used, else pmi2), and the whole step
    killed when one task fails, so that a rank which dies (at MPI_Init, say) does not leave the
    others waiting for it forever."""
    mpi = os.environ.get("CANDLE_SRUN_MPI") or os.environ.get("SLURM_MPI_TYPE") or "pmi2"
    return ["--distribution=arbitrary", f"--mpi={mpi}", "--kill-on-bad-exit=1"]


def _detect_launcher() -> str:
    if os.environ.get("SLURM_JOB_ID") and shutil.which("srun"):
        return "srun"
    mpiexec = find_mpiexec()
    if mpiexec is None:
        raise CandleError("launch: no mpiexec found beside Python or on PATH (pip install 'candle[mpi]')")
    version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30).stdout
    return "openmpi" if "Open MPI" in version or "OpenRTE" in version else "hydra"


def node_name() -> str:
    """This process's node as its launcher knows it: Slurm's node name inside a Slurm step (several
    nodes may share a host), else the host name."""
    return os.environ.get("SLURMD_NODENAME") or socket.gethostname()


def launch(
    command: Sequence[str],
    comm,
    *,
    timeout: float | None = None,
    output: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    launcher: str | None = None,
) -> int:
    """Run ``command`` as a new MPI job on the processes of ``comm`` (an mpi4py communicator).

    Collective: every rank of ``comm`` calls it and gets the child's exit code. ``output``: a
    file for the child's stdout and stderr (else the first rank's stdout); ``env``: variables
    added to the scrubbed environment; ``timeout``: seconds before the child is killed.
    """
    hosts = comm.allgather(node_name())
    code = np.zeros(1, dtype=np.int64)
    if comm.Get_rank() == 0:
        try:
            code[0] = _run_child(launcher_command(command, hosts, launcher), timeout, output, env, cwd)
        except BaseException:
            code[0] = -1
            comm.Ibcast(code, root=0).Wait()
            raise
        comm.Ibcast(code, root=0).Wait()
    else:
        request = comm.Ibcast(code, root=0)
        while not request.Test():  # sleep: the child's processes need this core
            time.sleep(POLL_SECONDS)
    return int(code[0])


def _run_child(
    argv: list[str],
    timeout: float | None,
    output: str | Path | None,
    env: Mapping[str, str] | None,
    cwd: str | Path | None,
) -> int:
    environment = child_environment(os.environ) | dict(env or {})
    sink: IO[bytes] = open(output, "wb") if output else sys.stdout.buffer  # noqa: SIM115
    try:
        child = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment, cwd=cwd, start_new_session=True
        )
        signals: list[int] = []
        reader = threading.Thread(target=_copy_output, args=(child.stdout, sink, signals), daemon=True)
        reader.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while child.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                _kill(child)
                reader.join()
                return TIMED_OUT
            time.sleep(POLL_SECONDS)
        reader.join()
    finally:
        if output:
            sink.close()
        else:
            sink.flush()
    if child.returncode < 0:
        return child.returncode
    return -signals[0] if signals and child.returncode != 0 else child.returncode


def _copy_output(stream: IO[bytes], sink: IO[bytes], signals: list[int]) -> None:
    """Copy the child's output line by line, noting any 'killed by signal N' a launcher reports."""
    for line in iter(stream.readline, b""):
        sink.write(line)
        for pattern in SIGNAL_PATTERNS:
            match = pattern.search(line)
            if match:
                signals.append(int(match.group(1)))
    sink.flush()


def _kill(child: subprocess.Popen) -> None:
    """SIGTERM the child's whole session, then SIGKILL what is left after a grace period."""
    for sig, grace in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, None)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            return
        try:
            child.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")  # MPICH hydra (and srun with PMI), Open MPI


def launched_ranks() -> int:
    """How many ranks the MPI launcher started (1 when not started by one)."""
    for name in LAUNCHER_SIZE_VARIABLES:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1

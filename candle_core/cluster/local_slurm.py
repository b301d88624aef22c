"""A private Slurm cluster of virtual nodes on this machine: for candle's tests and benchmarks,
and for trying ``candle submit`` without a cluster.

MUNGE with a key of its own, slurmctld, and one ``slurmd -N nI`` per node (Debian's
slurm-wlm accepts several on one host, each on its own port), all under one folder, as root
without systemd; ``start_cluster(folder)`` brings it up in a few seconds, ``stop_cluster``
ends it. Clients find it through ``SLURM_CONF`` (``SlurmCluster.env``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

NODES = ("n1", "n2", "n3")
COMMANDS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue")


def missing_commands() -> list[str]:
    """The Slurm and MUNGE commands this machine lacks (none: a cluster can start)."""
    return [name for name in COMMANDS if shutil.which(name) is None]


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@dataclass
class SlurmCluster:
    root: Path
    conf: Path

    @property
    def env(self) -> dict[str, str]:
        """What a client (and, through sbatch, a job) needs: SLURM_CONF, and FI_PROVIDER=tcp.
        MPICH from pip may pick a libfabric provider whose business cards are long enough that
        Debian's Slurm 22.05 PMI2 server mis-parses them ("value not properly terminated in
        client request", seen in about half of the runs under pytest); tcp's are short."""
        return {"SLURM_CONF": str(self.conf), "FI_PROVIDER": "tcp"}

    def command(self, *words: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            list(words), env={**os.environ, **self.env}, capture_output=True, text=True, timeout=timeout
        )

    def node_states(self) -> dict[str, str]:
        done = self.command("sinfo", "-h", "-N", "-o", "%N %T")
        return dict(line.split() for line in done.stdout.splitlines() if len(line.split()) == 2)

    def wait_idle(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.node_states()
            if len(states) == len(NODES) and all(s == "idle" for s in states.values()):
                return
            time.sleep(0.5)
        raise RuntimeError(f"the Slurm nodes did not become idle: {self.node_states()}")

    @staticmethod
    def node_tasks(name: str) -> dict[int, str]:
        """pid → command line of the processes Slurm started on node ``name`` (its tasks)."""
        tasks = {}
        for entry in Path("/proc").iterdir():
            try:
                if f"SLURMD_NODENAME={name}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                    tasks[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, ValueError):
                continue
        return tasks

    def kill_node(self, name: str) -> None:
        """The node dies: its slurmd, its steps' slurmstepd and their tasks are SIGKILLed."""
        victims = {int((self.root / f"slurmd.{name}.pid").read_text())}
        for pid in self.node_tasks(name):
            try:
                victims |= {pid, int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])}
            except (OSError, ValueError):
                continue
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def revive_node(self, name: str, timeout: float = 300) -> None:
        """Start the node's slurmd again and return it to service."""
        subprocess.run(["slurmd", "-f", str(self.conf), "-N", name], check=True, env={**os.environ, **self.env})
        self.command("scontrol", "update", f"nodename={name}", "state=resume")
        self.wait_idle(timeout)

    def wait_job(self, job_id: str, timeout: float = 900) -> None:
        """Until the job (all tasks of an array) has left the queue."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            queue = self.command("squeue", "-h", "-o", "%i").stdout.split()
            if not any(entry.split("_")[0] == job_id for entry in queue):
                return
            time.sleep(0.5)
        report = self.stuck_job_report()
        self.command("scancel", job_id)  # it would hold its nodes for the tests after it
        raise RuntimeError(f"job {job_id} still queued after {timeout} s (cancelled now):\n{report}")

    def stuck_job_report(self, lines: int = 15) -> str:
        """What a hung job was doing: the queue, its steps, and the last lines of each daemon's log."""
        return "\n".join(
            [self.command("squeue").stdout, self.command("squeue", "--steps").stdout, daemon_logs(self.root, lines)]
        )


def daemon_logs(root: Path, lines: int) -> str:
    """The last ``lines`` lines of each daemon's log (MUNGE, slurmctld, every slurmd) of the cluster in ``root``."""
    return "\n".join(
        f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        for log in sorted((root / "log").glob("*.log"))
    )


def start_cluster(root: Path) -> SlurmCluster:
    """Start the cluster in ``root`` (an empty folder); RuntimeError or CalledProcessError if it fails."""
    for folder in ("state", "log", *(f"spool/{n}" for n in NODES)):
        (root / folder).mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    key = root / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    socket_path = root / "munge.socket"
    subprocess.run(
        [
            "munged",
            "--force",
            f"--socket={socket_path}",
            f"--key-file={key}",
            f"--log-file={root / 'log' / 'munged.log'}",
            f"--pid-file={root / 'munged.pid'}",
            f"--seed-file={root / 'munged.seed'}",
        ],
        check=True,
    )
    host = socket.gethostname().split(".")[0]
    controller, slurmd, *node_ports = _free_ports(2 + len(NODES))
    nodes = "\n".join(
        f"NodeName={name} NodeHostname={host} NodeAddr=127.0.0.1 Port={port} CPUs=2 State=UNKNOWN"
        for name, port in zip(NODES, node_ports, strict=True)
    )
    conf = root / "slurm.conf"
    conf.write_text(
        f"""ClusterName=candletest
SlurmctldHost={host}
SlurmctldPort={controller}
SlurmdPort={slurmd}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={socket_path}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool/%n
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.%n.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
SlurmdTimeout=5
SlurmctldTimeout=10
InactiveLimit=0
KillWait=5
MinJobAge=600
SchedulerType=sched/builtin
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
{nodes}
PartitionName=debug Nodes={",".join(NODES)} Default=YES MaxTime=INFINITE State=UP
"""
    )
    cluster = SlurmCluster(root, conf)
    subprocess.run(["slurmctld", "-f", str(conf)], check=True, env={**os.environ, **cluster.env})
    for name in NODES:
        subprocess.run(["slurmd", "-f", str(conf), "-N", name], check=True, env={**os.environ, **cluster.env})
    cluster.wait_idle()
    return cluster


def stop_cluster(root: Path, grace: float = 5.0) -> None:
    """Stop the daemons of the cluster in ``root``: SIGTERM, then SIGKILL for any still there
    after ``grace`` seconds (a slurmd with a step stuck on a dead node may not stop)."""
    pids = []
    for pid_file in [*root.glob("slurmd.*.pid"), root / "slurmctld.pid", root / "munged.pid"]:
        try:
            pids.append(int(pid_file.read_text().strip()))
            os.kill(pids[-1], signal.SIGTERM)
        except (OSError, ValueError):
            pass
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if _alive(pid)]
        time.sleep(0.2)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True

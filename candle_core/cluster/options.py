"""The options of ``candle submit`` (parsed by the command line, used by ``cluster.commands``)."""

from __future__ import annotations

import argparse

from candle_core.cluster.profile import SCHEDULERS


def add_submit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scheduler", choices=SCHEDULERS, help="batch system (default: the site profile's, slurm)")
    parser.add_argument(
        "--site", metavar="FILE", help="site profile (default $CANDLE_SITE_PROFILE, ~/.config/candle/site.toml)"
    )
    parser.add_argument("--nodes", type=int, default=1, help="nodes to allocate (default 1)")
    parser.add_argument("--ranks-per-node", type=int, default=1, metavar="R", help="MPI ranks per node (default 1)")
    parser.add_argument("--gpus-per-node", type=int, default=0, metavar="G", help="GPUs per node (default 0)")
    parser.add_argument("--time", help="walltime, HH:MM:SS (default: the partition's)")
    parser.add_argument("--partition", help="partition or queue (default: the site profile's)")
    parser.add_argument("--account", help="account or project to charge (default: the site profile's)")
    parser.add_argument("--image", help="run candle inside this container image (the profile's container runtime)")
    parser.add_argument(
        "--chain", type=int, default=1, metavar="K", help="K jobs, each starting when the previous ends, resuming it"
    )
    parser.add_argument(
        "--array", type=int, metavar="N", help="upf only: a job array of N tasks, each a shard of the file"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the batch script; write and submit nothing")

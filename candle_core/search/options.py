"""Command-line options of ``candle search`` and ``candle upf`` (kept light: the CLI imports it)."""

from __future__ import annotations

import argparse


def add_search_options(parser: argparse.ArgumentParser, upf: bool = False) -> None:
    """Options shared by ``search`` and ``upf`` (keyword flags for the runs follow them)."""
    if not upf:
        parser.add_argument("--algorithm", default="random", help="grid, random, mbo, ga, ... (see 'candle plugins')")
        parser.add_argument("--space", help="search-space JSON file (CANDLE GA format)")
        parser.add_argument("--budget", type=int, default=10, help="number of trials in all")
        parser.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="an algorithm option, e.g. population=16, grid_points=5 (repeatable)",
        )
    parser.add_argument("--workers", type=int, default=1, help="trials running at once")
    parser.add_argument("--evaluator", default="local", help="where trials run: local, mpi")
    parser.add_argument(
        "--ranks-per-trial",
        type=int,
        default=1,
        metavar="K",
        help="mpi evaluator: each trial trains data-parallel on K ranks (default 1)",
    )
    parser.add_argument(
        "--gpus-per-trial",
        type=int,
        default=None,
        metavar="N",
        help="GPUs each trial sees (default: 1 when the node has GPUs, else 0; 0: CPU trials)",
    )
    parser.add_argument(
        "--trials-per-gpu",
        type=int,
        default=1,
        metavar="K",
        help="pack K trials onto each GPU, each with 1/K of its memory (default 1)",
    )
    parser.add_argument("--objective", default="val_loss", help="metric to optimize (default val_loss)")
    direction = parser.add_mutually_exclusive_group()
    direction.add_argument(
        "--maximize", action="store_true", help="maximize the objective (default: as the metric improves)"
    )
    direction.add_argument("--minimize", action="store_true", help="minimize the objective")
    parser.add_argument(
        "--objective-mode",
        choices=["best", "last"],
        default="best",
        help="the objective's value at the best epoch of a trial (default) or at its last",
    )
    parser.add_argument("--trial-timeout", type=float, default=None, help="seconds before a trial is killed")
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        metavar="N",
        help="times a trial lost with its node (srun evaluator) runs again before it counts as failed (default 2)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the search (default: rng_seed)")
    parser.add_argument(
        "--resume",
        nargs="?",
        const="yes",
        choices=["yes", "auto"],
        help="continue the experiment's interrupted search (--resume=auto: if it holds one, else start it)",
    )
    parser.add_argument(
        "--model-cache",
        choices=["shared", "node"],
        default="shared",
        help="where trials write models and checkpoints: the experiment folder (shared), or the node's "
        "$CANDLE_NODE_CACHE/$TMPDIR with only the kept ones flushed to the experiment (node)",
    )
    parser.add_argument(
        "--keep-models",
        type=int,
        default=None,
        metavar="K",
        help="keep the trained models of the best K trials only (default: keep all)",
    )

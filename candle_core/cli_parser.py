"""The ``candle`` command line's argparse tree (no command runs here: ``cli`` runs them; ``candle
submit`` parses the command it wraps with the same tree)."""

from __future__ import annotations

import argparse
from typing import Any

from candle_core.cluster.options import add_submit_options
from candle_core.plugin_manager import get_plugin_manager
from candle_core.search.options import add_search_options

BENCHMARK_COMMANDS = {
    "run": "train and evaluate a benchmark",
    "params": "show every parameter and where it came from",
    "summary": "the benchmark's network as the backend builds it (--backend torch|keras)",
}


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The main parser and its sub-parsers by command name."""
    parser = argparse.ArgumentParser(
        prog="candle",
        description="Deep-learning experiments from laptop to supercomputer, the CANDLE way.",
        epilog="Keyword flags (--epochs 5, -e 5, --dense 200 20, --config_file F) follow the benchmark name; "
        "'candle run BENCH --help' lists them. --debug shows tracebacks.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands: dict[str, argparse.ArgumentParser] = {}

    def add(name: str, text: str, **options: Any) -> argparse.ArgumentParser:
        commands[name] = sub.add_parser(name, help=text, description=text, allow_abbrev=False, **options)
        return commands[name]

    for name, text in BENCHMARK_COMMANDS.items():
        command = add(name, text, add_help=False)
        command.add_argument("benchmark", nargs="?", help="benchmark name (see 'candle list')")
        command.add_argument("-h", "--help", action="store_true", help="show the benchmark's keywords")
        command.add_argument("--strict", action="store_true", help="unknown keys in model files are errors")
        if name == "params":
            command.add_argument("--json", action="store_true", help='print {"name": {"value": ..., "source": ...}}')
            command.add_argument("--all", action="store_true", help="include keywords that have no value")
    for name, text in (
        ("search", "search hyperparameters: trials of BENCH with values from --space"),
        ("upf", 'run one trial of BENCH per JSON line of FILE (each with an "id")'),
    ):
        command = add(name, text)
        command.add_argument("benchmark", help="benchmark name (see 'candle list')")
        if name == "upf":
            command.add_argument("file", help="UPF file: one JSON object per line")
            command.add_argument(
                "--shard", metavar="I/N", help="run only the parameter sets I, I+N, I+2N, ... (0-based; job arrays)"
            )
        add_search_options(command, upf=name == "upf")
    command = add("results", "ranked trials of a search")
    command.add_argument("experiment_dir", help="the search's experiment directory (or its results.sqlite)")
    command.add_argument("--csv", help="write the table to this CSV file instead")
    text = "one self-contained HTML page about a search, UPF or uq experiment (charts inline, no network)"
    command = add("report", text)
    command.add_argument("experiment_dir", help="the experiment directory (or its results.sqlite)")
    command.add_argument("--out", help="where to write the page (default: EXPERIMENT_DIR/report.html)")
    text = "Monte-Carlo dropout predictions of a finished run: per-row mean and std, and their report"
    command = add("infer", text)
    command.add_argument("benchmark", help="benchmark name (see 'candle list')")
    command.add_argument("--run", required=True, help="the run directory (holds final_params.json and model/)")
    command.add_argument("--mc-samples", type=int, default=30, help="predictions per row with dropout on (default 30)")
    command.add_argument("--part", choices=["val", "test"], default="val", help="which rows to predict")
    command.add_argument("--out", help="folder for the outputs (default: the run directory)")
    text = "uncertainty by bootstrap ensembles: train N models on resamples, predict with all, report"
    command = add("uq", text)
    command.add_argument("method", choices=["bootstrap"], help="bootstrap: one model per resample")
    command.add_argument("benchmark", help="benchmark name (see 'candle list')")
    command.add_argument("--models", type=int, default=10, help="ensemble size (default 10)")
    add_search_options(command, upf=True)
    for name, make in sorted(get_plugin_manager().components("command").items()):
        plugin_command = make[0]()
        command = add(name, plugin_command.help)
        plugin_command.add_options(command)
        command.set_defaults(plugin_command=plugin_command)
    text = "write a batch script (Slurm, PBS, LSF) for a candle command and submit it"
    command = add("submit", text, usage="candle submit [options] -- candle COMMAND ...")
    add_submit_options(command)
    for name, text in (
        ("jobs", "the batch jobs of an experiment and their states"),
        ("cancel", "cancel the queued and running batch jobs of an experiment"),
    ):
        command = add(name, text)
        command.add_argument("experiment_dir", help="the experiment directory the jobs were submitted for")
        if name == "cancel":
            command.add_argument("job", nargs="*", help="only these job ids (default: all of the experiment's)")
    for name, text in (
        ("list", "list the benchmarks"),
        ("plugins", "list the plugins: family, name, module, version"),
        ("env", "what candle sees here: backends, frameworks, GPUs, MPI"),
    ):
        command = add(name, text)
        command.add_argument("--json", action="store_true", help="machine-readable output")
    return parser, commands

"""The ``candle`` command. User errors (``CandleError``) are caught here, once: one line each,
exit status 2, no traceback unless ``--debug``."""

from __future__ import annotations

import argparse
import errno
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from candle_core.cli_parser import BENCHMARK_COMMANDS, build_parser
from candle_core.cluster import walltime
from candle_core.errors import CandleError, PeerLost, warn_user
from candle_core.table import print_table

EXIT_USER_ERROR = 2
EXIT_PEER_LOST = 3
# a full, read-only or forbidden file system: the user's to fix, so one line, no traceback
STORAGE_ERRORS = (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT)


def _warn(messages: Sequence[str]) -> None:
    for message in messages:
        warn_user(message)


def _plugin_manager():
    from candle_core.plugin_manager import get_plugin_manager

    return get_plugin_manager()


def _resolve(args: argparse.Namespace, keyword_argv: Sequence[str]):
    """Look up the benchmark and resolve its parameters; ``-h`` prints its keywords."""
    from candle_core.parameters.pipeline import keyword_help, resolve_benchmark

    benchmark = _plugin_manager().benchmark(args.benchmark)
    prog = f"candle {args.command} {benchmark.name}"
    if args.help:
        print(keyword_help(benchmark, prog))
        raise SystemExit(0)
    found = resolve_benchmark(benchmark, keyword_argv, strict=args.strict, prog=prog)
    found.warn()
    return found.manager, found.benchmark, found.registry, found.resolved


# --------------------------------------------------------------------------- commands
def command_run(args: argparse.Namespace, rest: Sequence[str]) -> int:
    from candle_core.data_parallel import refuse_lone_ranks
    from candle_core.run import run_benchmark
    from candle_core.run_context import WALLTIME_STOP

    manager, benchmark, _, resolved = _resolve(args, rest)
    refuse_lone_ranks(resolved.values)
    results = run_benchmark(benchmark, resolved.values, manager)
    if results.get("data_parallel", {}).get("rank", 0) != 0:
        return 0  # rank 0 reports
    objective = results["objective"]
    best = objective.get("best")
    summary = (
        f"{objective['metric']} best {best:.6g} at epoch {objective['best_epoch']}" if best is not None else "no metric"
    )
    print(f"candle: {benchmark.name}: {results['epochs_run']} epochs, {results['stop_reason']}; {summary}")
    final = {k: v for k, v in (results.get("final_metrics") or {}).items() if k.startswith("val_")}
    if final:
        print("candle: last epoch: " + ", ".join(f"{name} {value:.4g}" for name, value in final.items()))
    print(f"candle: outputs in {resolved.values['run_dir']}")
    if results["stop_reason"] == WALLTIME_STOP:
        return walltime.STOPPED_EXIT_CODE
    return 0


def command_summary(args: argparse.Namespace, rest: Sequence[str]) -> int:
    from candle_core.run import build_model_spec

    manager, benchmark, _, resolved = _resolve(args, rest)
    params = resolved.values
    input_shape = benchmark.input_shape(params)
    if input_shape is None:
        raise CandleError(f"benchmark {benchmark.name} has no model to summarize")
    spec = build_model_spec(benchmark, params, input_shape, manager.hook)
    backend = manager.component("backend", params["backend"])()
    model = backend.build(spec, None, params["precision"], params["rng_seed"])
    rows = backend.layer_table(model)
    print(f"# {benchmark.name} on {backend.name}: input {(None, *input_shape)}, {params['precision']}")
    print_table(rows, ("layer", "output shape", "parameters"))
    total = sum(row[2] for row in rows)
    if total != spec.n_params:
        raise CandleError(f"{backend.name} built {total} parameters where the model description has {spec.n_params}")
    print(f"total parameters: {total}")
    return 0


def command_params(args: argparse.Namespace, rest: Sequence[str]) -> int:
    _, _, registry, resolved = _resolve(args, rest)
    explained = resolved.explain()
    if args.all:
        for keyword in registry:
            explained.setdefault(keyword.name, {"value": None, "source": "unset"})
    explained = dict(sorted(explained.items()))
    if args.json:
        print(json.dumps(explained, indent=2, default=str))
        return 0
    print(f"# parameters of benchmark {args.benchmark} (model file {resolved.config_path})")
    print_table(
        [(name, repr(item["value"]), item["source"]) for name, item in explained.items()], ("name", "value", "source")
    )
    return 0


def command_list(args: argparse.Namespace, rest: Sequence[str]) -> int:
    manager = _plugin_manager()
    rows = []
    for name, (benchmark, plugin) in sorted(manager.components("benchmark").items()):
        kind = "self-contained" if benchmark.has_procedure else "backend"
        rows.append(
            {
                "name": name,
                "trains": kind,
                "plugin": plugin,
                "model_file": str(benchmark.default_model_path),
                "description": benchmark.desc,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(
            [(r["name"], r["trains"], r["plugin"], r["description"]) for r in rows],
            ("benchmark", "trains", "plugin", "description"),
        )
    _warn_failures(manager)
    return 0


def command_plugins(args: argparse.Namespace, rest: Sequence[str]) -> int:
    manager = _plugin_manager()
    rows = manager.describe()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(
        [(r["family"], r["name"], r["plugin"], r["module"], r["version"], r["status"]) for r in rows],
        ("family", "name", "plugin", "module", "version", "status"),
    )
    return 0


def command_env(args: argparse.Namespace, rest: Sequence[str]) -> int:
    from candle_core.environment import environment_report, print_report

    report = environment_report(_plugin_manager())
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


def _warn_failures(manager: Any) -> None:
    _warn([f"plugin '{f.name}' ({f.module}) failed to load: {f.error}" for f in manager.failures])


# --------------------------------------------------------------------------- parser
def command_infer(args: argparse.Namespace, rest: Sequence[str]) -> int:
    from pathlib import Path

    from candle_core.uq import infer, print_summary

    out = Path(args.out) if args.out else Path(args.run)
    figures = infer(args.benchmark, Path(args.run), args.mc_samples, args.part, out)
    print_summary(figures, out)
    return 0


# commands whose modules load only when they run, so that the CLI starts fast
LAZY_COMMANDS = {
    "search": "candle_core.search.commands:command_search",
    "upf": "candle_core.search.commands:command_upf",
    "results": "candle_core.search.commands:command_results",
    "report": "candle_core.report:command_report",
    "uq": "candle_core.search.commands:command_bootstrap",
    "submit": "candle_core.cluster.commands:command_submit",
    "jobs": "candle_core.cluster.commands:command_jobs",
    "cancel": "candle_core.cluster.commands:command_cancel",
}


def _lazy(target: str):
    """A command that imports ``module:function`` when it runs, then runs it."""

    def command(args: argparse.Namespace, rest: Sequence[str]) -> int:
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)(args, rest)

    return command


COMMANDS = {
    "run": command_run,
    "params": command_params,
    "summary": command_summary,
    "list": command_list,
    "plugins": command_plugins,
    "infer": command_infer,
    "env": command_env,
    **{name: _lazy(target) for name, target in LAZY_COMMANDS.items()},
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [word for word in argv if word != "--debug"]
    parser, commands = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.version:
        from importlib import metadata

        print(f"candle {metadata.version('candle')}")
        return 0
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    if args.command in BENCHMARK_COMMANDS:
        if args.benchmark is None:
            if args.help:
                commands[args.command].print_help()
                return 0
            print(f"candle {args.command}: error: name a benchmark (see 'candle list')", file=sys.stderr)
            return EXIT_USER_ERROR
    elif rest and args.command not in ("search", "upf", "uq", "submit") and not hasattr(args, "plugin_command"):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command in ("run", "search", "upf", "uq"):
        walltime.on_warning()  # a batch job's warning before its walltime: stop cleanly, not die
    try:
        if hasattr(args, "plugin_command"):
            return args.plugin_command.run(args, rest)
        return COMMANDS[args.command](args, rest)
    except CandleError as exc:
        if debug:
            raise
        for message in exc.messages:
            print(f"candle: error: {message}", file=sys.stderr)
        if isinstance(exc, PeerLost):  # MPI_Finalize would wait for the lost peer forever
            sys.stderr.flush()
            os._exit(EXIT_PEER_LOST)
        return EXIT_USER_ERROR
    except OSError as exc:
        if debug or exc.errno not in STORAGE_ERRORS:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        hint = "check the output folder (CANDLE_OUTPUT_DIR, output_dir) and its file system"
        print(f"candle: error: {where}{exc.strerror}; {hint}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("candle: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

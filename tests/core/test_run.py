"""The run lifecycle: timeout at an epoch boundary, failures recorded, lifecycle hooks called."""

import json

from helpers import check_timeout_decision

from candle_core.hookspecs import hookimpl
from candle_core.parameters.command_line import parse_keyword_flags
from candle_core.parameters.registry import build_registry
from candle_core.parameters.resolve import resolve_parameters
from candle_core.plugin_manager import get_plugin_manager
from candle_core.run import run_benchmark


def test_timeout_stops_at_an_epoch_boundary(candle, candle_dirs):
    result = candle("run", "testfn", "-e", "50", "--sleep", "0.1", "--timeout", "1")
    assert result.code == 0, result.err
    results = json.loads((candle_dirs / "testfn/Output/EXP000/RUN000/results.json").read_text())
    assert results["stop_reason"].startswith("timeout") and 1 <= results["epochs_run"] < 50
    history = json.loads((candle_dirs / "testfn/Output/EXP000/RUN000/history.json").read_text())
    assert len(history) == results["epochs_run"]
    check_timeout_decision(results["stop_reason"], 1.0)


def test_a_crashing_run_is_recorded_as_failed(candle, candle_dirs):
    result = candle("run", "testfn", "-e", "5", "--fail", "raise", "--fail_epoch", "3")
    assert result.code == 1 and "RuntimeError: testfn failed on purpose at epoch 3" in result.err
    results = json.loads((candle_dirs / "testfn/Output/EXP000/RUN000/results.json").read_text())
    assert results["status"] == "failed" and results["epochs_run"] == 2
    assert results["stop_reason"] == "failed: RuntimeError: testfn failed on purpose at epoch 3"


def test_an_aborting_run_dies_by_signal(candle):
    result = candle("run", "testfn", "--fail", "abort")
    assert result.code < 0 or result.code == 134


def test_lifecycle_hooks_are_called():
    calls = []

    class Observer:
        @hookimpl
        def candle_run_start(self, benchmark, params, run_dir):
            calls.append(("start", benchmark.name))

        @hookimpl
        def candle_epoch_end(self, params, epoch, metrics):
            calls.append(("epoch", epoch, sorted(metrics)))

        @hookimpl
        def candle_run_end(self, benchmark, params, run_dir, results):
            calls.append(("end", results["epochs_run"]))

    manager = get_plugin_manager()
    observer = Observer()
    manager.register(observer)
    try:
        benchmark = manager.benchmark("testfn")
        registry = build_registry(benchmark, manager)
        resolved = resolve_parameters(benchmark, registry, parse_keyword_flags(registry, ["-e", "2"], "t"))
        run_benchmark(benchmark, resolved.values, manager)
    finally:
        manager.unregister(observer)
    assert calls == [
        ("start", "testfn"),
        ("epoch", 1, ["loss", "val_loss"]),
        ("epoch", 2, ["loss", "val_loss"]),
        ("end", 2),
    ]

"""Plugins: built-ins and a separately installed third-party package, through entry points."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parents[1] / "fixtures" / "candle_hello_plugin"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    """Install the tiny plugin package for real (pip, into its own folder on PYTHONPATH)."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(FIXTURE),
        ],
        check=True,
        capture_output=True,
        cwd=build,
    )
    return target


def with_plugin(site):
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH", "")]))}


def test_builtin_plugins_listed(candle):
    result = candle("plugins", "--json")
    assert result.code == 0
    rows = json.loads(result.out)
    benchmarks = {r["name"] for r in rows if r["family"] == "benchmark"}
    assert {"nt3", "p1b1", "p3b1", "testfn"} <= benchmarks
    families = {r["family"] for r in rows}
    assert {"parameters", "benchmark", "data", "model"} <= families
    for row in rows:
        assert set(row) == {"family", "name", "plugin", "module", "distribution", "version", "status"}
        assert row["version"] and row["module"]


def test_third_party_plugin_shows_and_works(candle, plugin_site):
    env = with_plugin(plugin_site)
    rows = json.loads(candle("plugins", "--json", env=env).out)
    hello = [r for r in rows if r["plugin"] == "hello"]
    assert {(r["family"], r["name"]) for r in hello} == {("parameters", "hello"), ("benchmark", "hello")}
    assert all(r["distribution"] == "candle-hello-plugin" and r["version"] == "1.2.3" for r in hello)
    assert all(r["module"] == "candle_hello.hello" for r in hello)
    # its keyword reaches every benchmark, its model file sets it, its benchmark runs
    params = json.loads(candle("params", "testfn", "--json", "--greeting", "hi", env=env).out)
    assert params["greeting"] == {"value": "hi", "source": "command line --greeting"}
    params = json.loads(candle("params", "hello", "--json", env=env).out)
    assert params["greeting"]["value"] == "bonjour" and params["target"]["source"].startswith("default")
    run = candle("run", "hello", "--target", "4", env=env)
    assert run.code == 0, run.err
    assert "val_loss best 2 at epoch 2" in run.out


def test_failing_plugins_are_reported_and_do_not_break_others(candle, plugin_site):
    env = with_plugin(plugin_site)
    result = candle("plugins", env=env)
    assert result.code == 0
    lines = result.out.splitlines()
    broken = next(line for line in lines if "candle_hello.broken" in line)
    assert "failed: ModuleNotFoundError" in broken and "candle_hello_missing_dependency" in broken
    typo = next(line for line in lines if "candle_hello.typo" in line)
    assert "failed:" in typo and "candle_benchmark" in typo
    assert any(line.startswith("benchmark") and " nt3 " in line for line in lines)
    listing = candle("list", env=env)
    assert listing.code == 0 and "hello" in listing.out
    assert "plugin 'broken' (candle_hello.broken) failed to load" in listing.err


def test_a_components_missing_framework_is_one_line_naming_the_extra():
    from candle_core.errors import CandleError
    from candle_core.plugin_manager import _usable

    def needs_keras():
        raise ModuleNotFoundError("No module named 'keras'", name="keras")

    with pytest.raises(
        CandleError, match=r"^backend 'keras' needs keras, not installed here: pip install 'candle\[keras\]'$"
    ):
        _usable("backend", "keras", needs_keras)()

    def needs_something_else():
        raise ModuleNotFoundError("No module named 'private_thing'", name="private_thing")

    with pytest.raises(ModuleNotFoundError):  # not a framework candle knows: the error as it is
        _usable("backend", "odd", needs_something_else)()

"""Precedence, key by key: definition default < model file (or --config_file) < flags < search."""

from pathlib import Path

import pytest

from candle_core import Benchmark, CandleError
from candle_core.keywords import STANDARD_KEYWORDS
from candle_core.parameters.command_line import parse_keyword_flags
from candle_core.parameters.registry import KeywordRegistry
from candle_core.parameters.resolve import resolve_parameters

DEFINITIONS = [{"name": n, "type": int, "default": 1} for n in ("a", "b", "c", "d", "e")]


@pytest.fixture
def bench(tmp_path):
    (tmp_path / "demo_default_model.txt").write_text("[Global_Params]\nb = 2\nc = 2\nd = 2\ne = 2\n")
    (tmp_path / "other.txt").write_text("[Global_Params]\nc = 3\nd = 3\ne = 3\n")
    return Benchmark(tmp_path, "demo_default_model.txt", additional_definitions=DEFINITIONS)


@pytest.fixture
def registry(bench):
    registry = KeywordRegistry()
    registry.add(STANDARD_KEYWORDS, origin="standard")
    registry.add(bench.additional_definitions, origin="benchmark demo")
    return registry


def resolve(bench, registry, argv=(), overrides=None, **kwargs):
    flags = parse_keyword_flags(registry, list(argv), "test")
    return resolve_parameters(bench, registry, flags, overrides=overrides, override_source="search trial 7", **kwargs)


def test_precedence_without_config_file(bench, registry):
    resolved = resolve(bench, registry, ["--d", "4", "-e", "9"], overrides={"e": 5})
    values, sources = resolved.values, resolved.sources
    assert (values["a"], values["b"], values["c"], values["d"], values["e"]) == (1, 2, 2, 4, 5)
    assert sources["a"].kind == "default" and "benchmark demo" in str(sources["a"])
    assert str(sources["b"]).endswith("demo_default_model.txt:2")
    assert str(sources["c"]).endswith("demo_default_model.txt:3")
    assert str(sources["d"]) == "command line --d"
    assert str(sources["epochs"]) == "command line -e"
    assert str(sources["e"]) == "search search trial 7"


def test_config_file_replaces_the_default_file(bench, registry):
    resolved = resolve(bench, registry, ["--config_file", str(Path(bench.file_path) / "other.txt"), "--d", "4"])
    values, sources = resolved.values, resolved.sources
    # b falls back to its definition default: --config_file replaces the default file.
    assert (values["a"], values["b"], values["c"], values["d"], values["e"]) == (1, 1, 3, 4, 3)
    assert str(sources["c"]).endswith("other.txt:2")
    assert sources["b"].kind == "default"
    assert resolved.config_path.name == "other.txt"


def test_config_file_is_found_beside_the_benchmark(bench, registry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path.parent)
    resolved = resolve(bench, registry, ["--config_file", "other.txt"])
    assert resolved.values["c"] == 3


def test_directories_are_derived(bench, registry, candle_dirs, monkeypatch):
    resolved = resolve(bench, registry, ["--experiment_id", "EXP9", "--run_id", "R1"])
    assert resolved.values["model_name"] == "demo"
    assert resolved.values["data_dir"] == str(candle_dirs / "demo" / "Data")
    assert resolved.values["run_dir"] == str(candle_dirs / "demo" / "Output" / "EXP9" / "R1")
    monkeypatch.setenv("CANDLE_OUTPUT_DIR", "/scratch/out")
    resolved = resolve(bench, registry, ["--output_dir", "runs"])
    assert resolved.values["run_dir"] == "/scratch/out/demo/runs/EXP000/RUN000"
    resolved = resolve(bench, registry, ["--output_dir", "/abs/place"])
    assert resolved.values["run_dir"] == "/abs/place/EXP000/RUN000"


def test_data_root_defaults_to_home_candle(bench, registry, monkeypatch, tmp_path):
    monkeypatch.delenv("CANDLE_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    resolved = resolve(bench, registry)
    assert resolved.values["run_dir"] == str(tmp_path / ".candle" / "demo" / "Output" / "EXP000" / "RUN000")
    assert "unset" in str(resolved.sources["run_dir"])


def test_required_lists_every_missing_key(bench, registry):
    bench.required = {"b", "zeta", "alpha", "epochs"}
    with pytest.raises(CandleError) as info:
        resolve(bench, registry)
    (message,) = info.value.messages
    assert "alpha, epochs, zeta" in message and "demo_default_model.txt" in message


def test_unknown_file_keys_warn_or_fail_when_strict(bench, registry):
    Path(bench.default_model_path).write_text("[G]\nepoch = 3\n")
    resolved = resolve(bench, registry)
    assert resolved.values["epoch"] == 3
    assert "demo_default_model.txt:2: unknown keyword 'epoch' (did you mean epochs?)" in resolved.warnings[0]
    with pytest.raises(CandleError) as info:
        resolve(bench, registry, strict=True)
    assert "demo_default_model.txt:2" in str(info.value)


def test_every_problem_is_reported_at_once(bench, registry):
    Path(bench.default_model_path).write_text("[G]\nepochs = 'ten'\nshuffle = 'maybe'\n")
    with pytest.raises(CandleError) as info:
        resolve(bench, registry, ["--batch_size", "big"], overrides={"nope": 1})
    text = str(info.value)
    assert "model.txt:2: key 'epochs'" in text and "model.txt:3: key 'shuffle'" in text
    assert "command line --batch_size" in text and "'nope' is not a keyword" in text


def test_search_overrides_are_typed(bench, registry):
    resolved = resolve(bench, registry, overrides={"dense": [5, 6], "learning_rate": "0.1", "shuffle": "yes"})
    assert resolved.values["dense"] == [5, 6]
    assert resolved.values["learning_rate"] == 0.1
    assert resolved.values["shuffle"] is True

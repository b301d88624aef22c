"""CANDLE's model-file rules that upstream files depend on: the file's data_dir wins over the
derived one, a list given to a one-value keyword candle does not read passes through (with a
warning naming file:line), ints in float keywords become floats, and finalize_parameters
returns logfile and ckpt_directory."""

from __future__ import annotations

import pytest

from candle_core import Benchmark, CandleError
from candle_core.compat import finalize_parameters
from candle_core.keywords import READ_BY_CANDLE, STANDARD_KEYWORDS
from candle_core.parameters.registry import KeywordRegistry
from candle_core.parameters.resolve import resolve_parameters

OWN = [{"name": "feature_col", "type": int}, {"name": "classes", "type": int, "default": 2}]


def resolve(tmp_path, text: str):
    path = tmp_path / "demo_default_model.txt"
    path.write_text("[Global_Params]\n" + text)
    bench = Benchmark(tmp_path, "demo_default_model.txt", additional_definitions=OWN)
    registry = KeywordRegistry()
    registry.add(STANDARD_KEYWORDS, origin="candle standard keywords")
    registry.add(OWN, origin="benchmark demo")
    return resolve_parameters(bench, registry), path


def test_the_files_data_dir_wins(tmp_path, candle_dirs):
    resolved, path = resolve(tmp_path, "data_dir = '/shared/data/nt3'\n")
    assert resolved.values["data_dir"] == "/shared/data/nt3"
    assert str(resolved.sources["data_dir"]) == f"{path}:2"
    assert not resolved.warnings  # data_dir is a keyword now, not "kept as written"
    derived, _ = resolve(tmp_path, "epochs = 1\n")
    assert derived.values["data_dir"] == str(candle_dirs / "demo" / "Data")
    assert derived.sources["data_dir"].kind == "derived"


def test_lists_pass_through_for_one_value_keywords_candle_does_not_read(tmp_path):
    resolved, path = resolve(tmp_path, "feature_col = [0, 3]\nactivation = ['relu', 'tanh']\nlearning_rate = 1\n")
    assert resolved.values["feature_col"] == [0, 3] and resolved.values["activation"] == ["relu", "tanh"]
    assert resolved.values["learning_rate"] == 1.0 and type(resolved.values["learning_rate"]) is float
    warnings = "\n".join(resolved.warnings)
    assert f"{path}:2: key 'feature_col': a list for a one-value keyword, passed through" in warnings
    assert f"{path}:3: key 'activation'" in warnings


@pytest.mark.parametrize("key", ["epochs", "batch_size", "optimizer", "timeout", "ckpt_restart_mode", "n_fold"])
def test_keywords_candle_reads_refuse_a_list(tmp_path, key):
    assert key in READ_BY_CANDLE
    with pytest.raises(CandleError) as info:
        resolve(tmp_path, f"{key} = [1, 2]\n")
    assert f"demo_default_model.txt:2: key '{key}'" in str(info.value) and "not a list" in str(info.value)


def test_finalize_parameters_gives_logfile_and_ckpt_directory(tmp_path, candle_dirs):
    (tmp_path / "demo_default_model.txt").write_text("[Global_Params]\nepochs = 2\n")
    params = finalize_parameters(Benchmark(tmp_path, "demo_default_model.txt"), [])
    assert params["logfile"] is None
    assert params["ckpt_directory"] == str(candle_dirs / "demo" / "Output" / "EXP000" / "RUN000" / "ckpts")
    given = finalize_parameters(
        Benchmark(tmp_path, "demo_default_model.txt"), ["--logfile", "x.log", "--ckpt_directory", "/c"]
    )
    assert given["logfile"] == "x.log" and given["ckpt_directory"] == "/c"

"""candle reads CANDLE's original model files of NT3, P1B1 and P3B1 unchanged and
reproduces every value in them (checked against an independent reading of each file)."""

import ast
import configparser
import json
import re
from pathlib import Path

import pytest
from helpers import REPO, SHARED_MODELS

MODELS = {"nt3": "nt3_default_model.txt", "p1b1": "p1b1_default_model.txt", "p3b1": "p3b1_default_model.txt"}
LIST_OF_LISTS = {"ind_nnet_spec"}


def expected_values(path: Path) -> dict:
    """The test's own oracle: configparser + ast.literal_eval, key -> (value, line)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    lines = path.read_text().splitlines()
    found = {}
    for section in parser.sections():
        for key, raw in parser.items(section):
            line = next(i for i, text in enumerate(lines, 1) if re.match(rf"\s*{key}\s*=", text, re.I))
            value = ast.literal_eval(raw)
            if key in LIST_OF_LISTS:
                value = [[int(x) for x in group.split(",")] for group in value.split(":")]
            found.setdefault(key, (value, line))
    return found


def check(candle, bench: str, path: Path, extra=()):
    result = candle("params", bench, "--json", *extra)
    assert result.code == 0, result.err
    assert "warning" not in result.err, result.err  # every key of the file is a known keyword
    params = json.loads(result.out)
    expected = expected_values(path)
    assert len(expected) >= 15
    for key, (value, line) in expected.items():
        assert params[key]["value"] == value, key
        assert type(params[key]["value"]) is type(value) or isinstance(value, int), key
        assert params[key]["source"] == f"{path}:{line}", key


@pytest.mark.parametrize("bench", sorted(MODELS))
def test_embedded_default_model_files(candle, bench):
    check(candle, bench, REPO / "benchmarks" / bench / MODELS[bench])


@pytest.mark.parametrize("bench", sorted(MODELS))
def test_shared_original_files_unchanged(candle, bench):
    original = SHARED_MODELS / MODELS[bench]
    if not original.exists():
        pytest.skip(f"{original} is not beside this checkout")
    assert (REPO / "benchmarks" / bench / MODELS[bench]).read_bytes() == original.read_bytes()
    check(candle, bench, original, ["--config_file", str(original)])


def test_p3b1_list_of_lists_and_strings_keep_candle_meaning(candle):
    params = json.loads(candle("params", "p3b1", "--json").out)
    assert params["ind_nnet_spec"]["value"] == [[2400, 2400, 1200, 1200]] * 3
    assert params["feature_names"]["value"] == "Primary site:Tumor laterality:Histological grade"
    assert params["shared_nnet_spec"]["value"][0] == 1200


def test_p1b1_none_values_stay_none(candle):
    params = json.loads(candle("params", "p1b1", "--json").out)
    assert params["learning_rate"]["value"] is None and params["base_lr"]["value"] is None
    assert params["timeout"]["source"].endswith("p1b1_default_model.txt:28")  # [Monitor_Params]

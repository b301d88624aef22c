import json
import shutil

import numpy as np
import pytest
from helpers import SHARED_MODELS

from candle_core import CandleError
from candle_core.search.space import Parameter, SearchSpace, load_space


def write(tmp_path, entries, name="space.json"):
    path = tmp_path / name
    path.write_text(entries if isinstance(entries, str) else json.dumps(entries))
    return path


def test_candle_nt3_ga_space_loads_unchanged(tmp_path):
    original = SHARED_MODELS / "nt3_param_space_ga.json"
    if not original.exists():
        pytest.skip(f"{original} is not beside this checkout")
    path = tmp_path / original.name
    shutil.copy(original, path)
    space = load_space(path)
    assert space.names[:4] == ["batch_size", "epochs", "activation", "dense"]
    rng = np.random.default_rng(0)
    for _ in range(50):
        point = space.sample(rng)
        assert point["batch_size"] in (32, 64, 128, 256, 512, 1024) and 1 <= point["epochs"] <= 5
        assert isinstance(point["epochs"], int) and isinstance(point["nesterov"], bool)
        assert 0.0 <= point["dropout"] <= 0.9 and point["dense"] in space.parameters[3].values


def test_list_strings_become_lists_for_list_keywords():
    from helpers import resolve

    params = resolve("nt3", [])  # a trial gets the search's values as overrides:
    from candle_core.parameters.registry import build_registry
    from candle_core.parameters.resolve import resolve_parameters
    from candle_core.plugin_manager import get_plugin_manager

    manager = get_plugin_manager()
    benchmark = manager.benchmark("nt3")
    resolved = resolve_parameters(
        benchmark,
        build_registry(benchmark, manager),
        None,
        overrides={"dense": "500 100 50", "conv": "50 50 50 50 50 1", "epochs": 3},
    )
    assert resolved.values["dense"] == [500, 100, 50] and resolved.values["conv"] == [50, 50, 50, 50, 50, 1]
    assert params["dense"] == [200, 20]


def test_encode_decode_and_grid(tmp_path):
    space = load_space(
        write(
            tmp_path,
            [
                {"name": "lr", "type": "float", "lower": 1e-4, "upper": 1e-1, "log": True},
                {"name": "n", "type": "int", "lower": 1, "upper": 3},
                {"name": "act", "type": "categorical", "values": ["relu", "tanh"]},
                {"name": "flag", "type": "logical"},
                {"name": "k", "type": "constant", "value": 7},
            ],
        )
    )
    point = {"lr": 1e-2, "n": 2, "act": "tanh", "flag": True, "k": 7}
    assert space.decode(space.encode(point)) == pytest.approx(point)
    assert space.decode([0.5, 0, 0, 0, 0])["lr"] == pytest.approx(10**-2.5)
    grid = space.grid(3)
    assert len(grid) == 3 * 3 * 2 * 2 * 1 and {g["n"] for g in grid} == {1, 2, 3}


@pytest.mark.parametrize(
    "entries, words",
    [
        ('[{"name": "a",', "space.json:1:"),
        ({"name": "a"}, "non-empty JSON list"),
        ([{"name": "a", "type": "floaty", "lower": 0, "upper": 1}], "did you mean float"),
        ([{"name": "a", "type": "float", "lower": 2, "upper": 1}], "lower 2 is above upper 1"),
        ([{"name": "a", "type": "float", "lower": 0, "upper": 1, "log": True}], "lower > 0"),
        ([{"name": "a", "type": "categorical", "values": []}], "non-empty list"),
        ([{"name": "a", "type": "int", "lower": 0.5, "upper": 3}], "integer bounds"),
        ([{"name": "a", "type": "float", "lower": "0", "upper": 1}], "'lower' must be a finite number"),
        ([{"name": "a", "type": "float", "lower": 0, "upper": 1, "sigmaa": 1}], "did you mean sigma"),
        (
            [{"name": "a", "type": "logical"}, {"name": "a", "type": "float", "lower": 0, "upper": 1}],
            "entries 1 and 2 both define 'a' (conflicting)",
        ),
        ([{"name": "a", "type": "categorical", "element_type": "int", "values": [1, "x"]}], "not of element_type int"),
        ([{"name": "a", "type": "float", "lower": 0, "upper": float("inf")}], "'upper' must be a finite number"),
        ([{"name": "a", "type": "float", "lower": float("nan"), "upper": 1}], "'lower' must be a finite number"),
        ([{"name": "a", "type": "float", "lower": 1, "upper": 2, "log": "false"}], "'log' must be true or false"),
        ([{"name": "a", "type": "float", "lower": 1, "upper": 2, "sigma": -1}], "'sigma' must be a number >= 0"),
    ],
)
def test_bad_spaces(tmp_path, entries, words):
    with pytest.raises(CandleError) as info:
        load_space(write(tmp_path, entries))
    assert words in str(info.value) and "space.json" in str(info.value)


def test_a_binary_space_file_is_named(tmp_path):
    path = tmp_path / "space.json"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CandleError, match="not a text file"):
        load_space(path)


@pytest.mark.parametrize(
    "entry, words",
    [
        (
            {"name": "batch_size", "type": "float", "lower": 10, "upper": 50},
            "integer keyword: give the parameter type int",
        ),
        ({"name": "batch_size", "type": "categorical", "values": [16, "big"]}, "can take 'big'"),
        ({"name": "dropout", "type": "float", "lower": 0.1, "upper": 1.5}, "can take 1.5"),
        ({"name": "learning_rate", "type": "categorical", "values": [0.1, "fast"]}, "can take 'fast'"),
    ],
)
def test_space_values_must_fit_their_keywords(candle, tmp_path, entry, words):
    path = write(tmp_path, [entry])
    done = candle("search", "nt3", "--space", str(path), "--budget", "1", "--data", "synthetic")
    assert done.code == 2 and words in done.err and "Traceback" not in done.err


def test_contains_checks_bounds_types_and_choices():
    space = SearchSpace(
        [Parameter("lr", "float", lower=0.001, upper=0.1), Parameter("opt", "categorical", values=("sgd", "adam"))]
    )
    assert space.contains({"lr": 0.01, "opt": "adam", "other": 1})
    assert not space.contains({"lr": 0.5, "opt": "adam"})
    assert not space.contains({"lr": True, "opt": "adam"})  # a logical is not a number here
    assert not space.contains({"lr": 0.01, "opt": "rmsprop"})
    assert not space.contains({"opt": "adam"})

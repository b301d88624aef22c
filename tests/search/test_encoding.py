"""The unit-cube features of a search space (plugins/search/encoding.py)."""

import numpy as np

from candle_core.search.space import Parameter, SearchSpace
from candle_plugins.search.encoding import SpaceEncoding

SPACE = SearchSpace(
    [
        Parameter("lr", "float", lower=1e-5, upper=1.0, log=True),
        Parameter("width", "int", lower=16, upper=2048, log=True),
        Parameter("depth", "int", lower=1, upper=10),
        Parameter("optimizer", "categorical", values=("sgd", "adam", "rmsprop")),
        Parameter("batch_size", "ordered", values=(16, 32, 64)),
        Parameter("shuffle", "logical"),
        Parameter("name", "constant", values=("nt3",)),
    ],
    source="test",
)


def test_columns_one_hot_categories_and_no_column_for_constants():
    encoding = SpaceEncoding(SPACE)
    assert encoding.width == 1 + 1 + 1 + 3 + 1 + 1
    assert len(encoding.continuous) == 5  # every single column: lr, width, depth, batch_size, shuffle
    assert {c.parameter.name for c in encoding.discrete} == {"width", "depth", "optimizer", "batch_size", "shuffle"}


def test_random_points_round_trip_and_are_valid():
    encoding, rng = SpaceEncoding(SPACE), np.random.default_rng(0)
    for x in encoding.sample(200, rng):
        point = encoding.decode(x)
        assert np.allclose(encoding.encode(point), x)
        assert isinstance(point["width"], int) and 16 <= point["width"] <= 2048
        assert point["optimizer"] in ("sgd", "adam", "rmsprop") and point["name"] == "nt3"
        assert 1e-5 <= point["lr"] <= 1.0


def test_project_snaps_any_point_of_the_cube_to_a_valid_one():
    encoding, rng = SpaceEncoding(SPACE), np.random.default_rng(1)
    raw = rng.random((50, encoding.width)) * 1.4 - 0.2  # also outside [0, 1]
    projected = encoding.project(raw)
    assert np.allclose(encoding.project(projected), projected)  # idempotent
    for x in projected:
        assert np.allclose(encoding.encode(encoding.decode(x)), x)
        assert x[3:6].sum() == 1.0  # one category hot


def test_log_scale_spreads_decades_evenly():
    encoding = SpaceEncoding(SPACE)
    point = encoding.decode(encoding.project(np.full((1, encoding.width), 0.5))[0])
    assert abs(np.log10(point["lr"]) + 2.5) < 1e-9


def test_neighbours_are_one_discrete_step_away():
    encoding = SpaceEncoding(SPACE)
    start = {
        "lr": 0.01,
        "width": 16,
        "depth": 5,
        "optimizer": "adam",
        "batch_size": 32,
        "shuffle": False,
        "name": "nt3",
    }
    points = [encoding.decode(n) for n in encoding.neighbours(encoding.encode(start))]
    assert {p["optimizer"] for p in points} == {"sgd", "adam", "rmsprop"}
    assert {p["depth"] for p in points} == {4, 5, 6}
    assert {p["width"] for p in points} == {16, 17}  # no step below the lower bound
    assert {p["batch_size"] for p in points} == {16, 32, 64}
    assert {p["shuffle"] for p in points} == {False, True}
    assert len(points) == 2 + 1 + 2 + 2 + 1
    for point in points:
        assert abs(point["lr"] - 0.01) < 1e-12
        assert sum(point[k] != start[k] for k in start if k != "lr") == 1

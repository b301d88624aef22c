import time

import numpy as np
import pytest

from candle_core import CandleError
from candle_core.data.tabular import Scaler, feature_subsample, one_hot, read_csv, split_validation


def test_read_csv_caches_parsed_table(tmp_path):
    table = np.random.default_rng(0).random((300, 3000), dtype=np.float32)
    path = tmp_path / "big.csv"
    np.savetxt(path, table, delimiter=",", fmt="%.6f")
    start = time.perf_counter()
    first = read_csv(path)
    parse = time.perf_counter() - start
    start = time.perf_counter()
    second = read_csv(path)
    cached = time.perf_counter() - start
    assert np.allclose(first, table, atol=1e-6) and np.array_equal(first, second)
    assert len(list((tmp_path / ".parsed").glob("big.csv.*.npy"))) == 1
    assert parse / cached >= 10, (parse, cached)
    path.write_text(path.read_text().replace("0.", "1.", 1))  # new content: new cache entry
    assert read_csv(path)[0, 0] != first[0, 0]
    assert read_csv(path, usecols=[0, 2]).shape == (300, 2) and read_csv(path, drop_cols=[0]).shape == (300, 2999)


def test_read_csv_refuses_text(tmp_path):
    path = tmp_path / "words.csv"
    path.write_text("a,b\nc,d\n")
    with pytest.raises(CandleError, match="not a numeric CSV"):
        read_csv(path)


@pytest.mark.parametrize("method, low, high", [("maxabs", -1, 1), ("minmax", 0, 1)])
def test_scalers_bounds(method, low, high):
    data = np.random.default_rng(1).normal(0, 5, (100, 4)).astype(np.float32)
    scaled = Scaler(method).fit(data).transform(data)
    assert scaled.min() >= low - 1e-6 and scaled.max() <= high + 1e-6 and scaled.dtype == np.float32


def test_std_scaler_and_constant_columns():
    data = np.column_stack([np.arange(10.0), np.ones(10)]).astype(np.float32)
    scaled = Scaler("std").fit(data).transform(data)
    assert abs(scaled[:, 0].mean()) < 1e-6 and scaled[:, 0].std() == pytest.approx(1, rel=1e-5)
    assert np.isfinite(scaled).all()
    with pytest.raises(CandleError, match="minabs"):
        Scaler("minabs")


def test_one_hot_split_and_subsample():
    assert one_hot(np.array([0, 1, 1]), 2).tolist() == [[1, 0], [0, 1], [0, 1]]
    with pytest.raises(CandleError, match="classes"):
        one_hot(np.array([0, 3]), 2)
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    xt, yt, xv, yv = split_validation(x, y, 0.2, seed=3)
    assert len(xv) == 2 and sorted(np.concatenate([yt, yv]).tolist()) == list(range(10))
    columns = feature_subsample(5, 100, seed=1)
    assert len(columns) == 5 and list(columns) == sorted(set(columns))
    assert feature_subsample(0, 100, seed=1) is None

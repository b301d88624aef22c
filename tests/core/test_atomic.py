"""Atomic writes leave whole files with the permissions a plain open() gives, and no leftovers."""

import os
import stat

import pytest

from candle_core.atomic import write_json_atomic


@pytest.fixture
def group_umask():
    previous = os.umask(0o002)
    yield 0o002
    os.umask(previous)


def test_results_and_figures_are_readable_by_the_group(tmp_path, group_umask, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from candle_core import atomic
    from candle_core.plots import save_figure

    monkeypatch.setattr(atomic, "UMASK", group_umask)
    write_json_atomic(tmp_path / "results.json", {"a": 1})
    figure, axes = plt.subplots()
    axes.plot([0, 1], [1, 0])
    save_figure(figure, tmp_path / "curve.png")
    for name in ("results.json", "curve.png"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o664
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.png", "results.json"]
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"

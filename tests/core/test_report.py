"""``candle report``: a real search's page, opened in a real headless Chromium."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")  # the parameter-importance chart

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHARTS = 4  # progress, parallel coordinates, importance, learning curves


def browse(page: Path, tmp_path: Path) -> tuple[str, str, Path]:
    """Chromium's DOM after the page loaded, its console log, and a screenshot of the page."""
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
    common += ["--disable-background-networking", "--disable-component-update", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run(
        [*common, "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=300,
    )
    shot = tmp_path / "page.png"
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    return dom.stdout, dom.stderr, shot


@pytest.fixture(scope="module")
def search_report(testfn_search):
    """The report of the shared testfn search (tests/core/conftest.py), written by `candle report`."""
    command = [sys.executable, "-m", "candle_core.cli", "report", str(testfn_search)]
    reported = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert reported.returncode == 0, reported.stderr
    return testfn_search, testfn_search / "report.html", reported.stdout


def test_report_holds_every_section_in_one_self_contained_file(search_report):
    experiment, page, out = search_report
    assert str(page) in out
    text = page.read_text()
    assert page.stat().st_size < 5 * 2**20
    assert text.count('<figure class="chart">') == CHARTS and text.count("<svg") == CHARTS
    for heading in (
        "Objective over trials",
        "Parallel coordinates",
        "Parameter importance",
        "Learning curves",
        "Failures",
    ):
        assert f"<h2>{heading}" in text
    assert "testfn failed on purpose" in text  # the failed trials' reasons
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)  # nothing fetched from a network
    assert "<link" not in text and "@import" not in text


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (tests/install_system_packages.sh)")
def test_report_renders_in_headless_chromium(search_report, tmp_path):
    _, page, _ = search_report
    copied = tmp_path / "copied" / "report.html"  # viewed from a copied folder: nothing else needed
    copied.parent.mkdir()
    shutil.copy(page, copied)
    dom, log, shot = browse(copied, tmp_path)
    assert f'data-charts="{CHARTS}/{CHARTS}"' in dom  # every chart laid out with a size and marks
    console = [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[0] >= 1000 and pixels.std() > 0.05  # a page with content, not a blank screen
    assert np.mean(pixels.mean(axis=2) < 0.9) > 0.01  # more than 1% of the pixels are drawn


def test_report_errors_name_the_folder(candle, tmp_path):
    done = candle("report", str(tmp_path))
    assert done.code == 2 and f"{tmp_path}: no results.sqlite here" in done.err and "Traceback" not in done.err


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (tests/install_system_packages.sh)")
def test_uq_ensemble_report_shows_error_against_std(candle, tmp_path):
    done = candle(
        "uq", "bootstrap", "bcw", "--models", "3", "--workers", "2", "-e", "5", "--experiment_id", "U", timeout=900
    )
    assert done.code == 0, done.err
    experiment = next(tmp_path.glob("**/U/results.sqlite")).parent
    reported = candle("report", str(experiment))
    assert reported.code == 0, reported.err
    text = (experiment / "report.html").read_text()
    assert "Uncertainty: error against predicted spread" in text
    dom, _, _ = browse(experiment / "report.html", tmp_path)
    charts = text.count('<figure class="chart">')  # 3 trials: too few for the importance chart
    assert charts == CHARTS and f'data-charts="{charts}/{charts}"' in dom

"""How fast ``candle report``'s page renders in headless Chromium, and how large it is.

    python benchmarks/perf/report_render.py [--trials 40] [--repeats 5]

Runs a random search of testfn (``--trials`` trials, 6 epochs each, a third failing on purpose),
writes its report, then opens it ``--repeats`` times in headless Chromium (Debian's package) and
reads the page's own clock at its load event (``data-render-ms``: parsing, styles, layout of every
chart). The baseline, in the same script: Chromium opening an empty page, the same way. Prints the
file size, the time ``candle report`` took, and the medians with their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SPACE = [
    {"name": "x1", "type": "float", "lower": -5, "upper": 10},
    {"name": "x2", "type": "float", "lower": 0, "upper": 15},
    {"name": "learning_rate", "type": "float", "lower": 1e-4, "upper": 1e-1, "log": True},
    {"name": "optimizer", "type": "categorical", "element_type": "string", "values": ["sgd", "adam", "rmsprop"]},
    {"name": "fail_epoch", "type": "int", "lower": 2, "upper": 18},
]
EMPTY_PAGE = (
    "<!DOCTYPE html><html><body><script>window.addEventListener('load', () => "
    "{document.body.dataset.renderMs = String(Math.round(performance.now()));});</script></body></html>"
)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def render_ms(chromium: str, page: Path) -> float:
    done = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r'data-render-ms="(\d+)"', done.stdout)
    if not found:
        raise SystemExit(f"report_render.py: no render time in Chromium's DOM of {page}: {done.stderr[-500:]}")
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("report_render.py: needs Chromium (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "space.json").write_text(json.dumps(SPACE))
        env = {**os.environ, "CANDLE_DATA_DIR": str(root / "data"), "CANDLE_OUTPUT_DIR": str(root / "out")}
        candle = [sys.executable, "-m", "candle_core.cli"]
        search = [*candle, "search", "testfn", "--algorithm", "random", "--space", str(root / "space.json")]
        search += ["--budget", str(args.trials), "--workers", "2", "-e", "6", "--fail", "raise", "--experiment_id", "R"]
        subprocess.run(search, env=env, check=True, capture_output=True)
        experiment = next((root / "out").glob("testfn/**/R"))
        started = time.perf_counter()
        subprocess.run([*candle, "report", str(experiment)], env=env, check=True, capture_output=True)
        writing = time.perf_counter() - started
        page = experiment / "report.html"
        empty = root / "empty.html"
        empty.write_text(EMPTY_PAGE)
        report_times = [render_ms(chromium, page) for _ in range(args.repeats)]
        empty_times = [render_ms(chromium, empty) for _ in range(args.repeats)]
        size = page.stat().st_size
    report_median, empty_median = float(np.median(report_times)), float(np.median(empty_times))
    print(f"report of {args.trials} trials: {size / 2**20:.2f} MiB, written by candle report in {writing:.1f} s")
    spread = f"{min(report_times):.0f}-{max(report_times):.0f}"
    print(f"rendered in headless Chromium: median {report_median:.0f} ms (range {spread})")
    ratio = report_median / max(empty_median, 1)
    print(f"baseline, an empty page: median {empty_median:.0f} ms; report / empty = {ratio:.1f}x")


if __name__ == "__main__":
    main()

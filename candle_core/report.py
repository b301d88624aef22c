"""``candle report EXP_DIR``: one self-contained HTML page about a search (or UPF, or UQ ensemble).

The page shows the objective over trials with the best so far, parallel coordinates of the
parameters, parameter importances, every trial's learning curve, the failed trials with their
reasons, and, when the experiment holds an ensemble's predictions, the error-vs-std plot. The
charts are matplotlib SVG drawn inline and the styles are inline: the file opens from a copied
folder with no server and no network. A small script marks, once the page has loaded, how many
charts the browser laid out (``data-charts`` on ``<body>``), for tests and for the curious.
"""

from __future__ import annotations

import argparse
import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from candle_core.atomic import write_text_atomic
from candle_core.errors import CandleError
from candle_core.objective import Objective
from candle_core.plots import error_vs_std_figure, pyplot, search_progress_figure, svg_text
from candle_core.search.store import DATABASE, ResultsStore, TrialRecord
from candle_core.status import TrialStatus
from candle_core.uq import PREDICTIONS_CSV, REPORT_JSON

REPORT_HTML = "report.html"
MIN_TRIALS_FOR_IMPORTANCE = 5
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure.chart { margin: 1em 0; } figure.chart svg { max-width: 100%; height: auto; }
figcaption, .note { color: #555; font-size: 0.9em; }
pre.error { white-space: pre-wrap; margin: 0; max-height: 8em; overflow: auto; }
"""
SCRIPT = """
window.addEventListener("load", () => {
  const charts = Array.from(document.querySelectorAll("figure.chart"));
  const drawn = charts.filter((chart) => {
    const svg = chart.querySelector("svg");
    if (!svg) return false;
    const box = svg.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && svg.querySelectorAll("path, use, text").length > 0;
  });
  document.body.dataset.charts = drawn.length + "/" + charts.length;
  document.body.dataset.renderMs = String(Math.round(performance.now()));
});
"""


def store_path(where: Path) -> Path:
    """The results.sqlite of an experiment folder (or the file itself)."""
    path = where / DATABASE if where.is_dir() else where
    if not path.is_file():
        raise CandleError(f"{where}: no {DATABASE} here; give the experiment folder of a search, UPF or uq run")
    return path


def write_report(where: Path, out: Path | None = None) -> Path:
    """Write the report of the experiment at ``where``; return its path (default
    ``<experiment>/report.html``)."""
    database = store_path(where)
    experiment = database.parent
    store = ResultsStore(database, create=False)
    identity = store.settings().get("identity", {})
    objective = Objective(**identity["objective"]) if "objective" in identity else Objective()
    trials = sorted(store.trials(), key=lambda t: t.id)
    title = f"{identity.get('benchmark', experiment.name)}: {identity.get('algorithm', 'trials')} — {experiment.name}"
    sections = [
        _summary(trials, objective, identity),
        _chart(
            "Objective over trials",
            _progress_svg(trials, objective),
            "each trial's objective; the line is the best so far",
        ),
        _chart(
            "Parallel coordinates",
            _parallel_svg(trials, objective),
            "one line per successful trial, coloured by its objective",
        ),
        _importance_section(trials, objective),
        _chart(
            "Learning curves",
            _curves_svg(trials, objective),
            f"{objective.metric} per epoch of every trial; the best trial in bold",
        ),
        _failures(trials),
        _uq_section(experiment),
    ]
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
        + "\n".join(section for section in sections if section)
        + f"\n<script>{SCRIPT}</script>\n</body></html>\n"
    )
    target = out or experiment / REPORT_HTML
    write_text_atomic(target, page)
    return target


def command_report(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``candle report EXP_DIR [--out FILE]``."""
    target = write_report(Path(args.experiment_dir), Path(args.out) if args.out else None)
    size = target.stat().st_size
    print(f"candle: report written to {target} ({size / 1024:.0f} KiB); open it in a browser")
    return 0


# --------------------------------------------------------------------------- sections
def _summary(trials: Sequence[TrialRecord], objective: Objective, identity: dict[str, Any]) -> str:
    ok = [t for t in trials if t.status == TrialStatus.OK and t.objective is not None]
    failed = [t for t in trials if t.status == TrialStatus.FAILED]
    direction = "maximized" if objective.maximize else "minimized"
    lines = [
        f"<p>{len(trials)} trials: {len(ok)} succeeded, {len(failed)} failed. Objective: "
        f"<b>{html.escape(objective.metric)}</b> at the {html.escape(objective.mode)} epoch, {direction}.</p>"
    ]
    if identity.get("argv"):
        lines.append(f'<p class="note">Base flags: <code>{html.escape(" ".join(identity["argv"]))}</code></p>')
    ranked = sorted(ok, key=lambda t: objective.loss(t.objective or 0.0))[:10]
    if ranked:
        names = list(dict.fromkeys(name for t in ranked for name in t.params))
        head = "".join(f"<th>{html.escape(n)}</th>" for n in ["trial", objective.metric, "seconds", *names])
        rows = []
        for trial in ranked:
            cells = [_cell(trial.label or trial.id), _cell(trial.objective), _cell(trial.seconds)]
            cells += [_cell(trial.params.get(n, "")) for n in names]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        lines.append(f"<h2>Best trials</h2><table><tr>{head}</tr>{''.join(rows)}</table>")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f'<td class="num">{value:.6g}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value}</td>'
    if value is None:
        return "<td></td>"
    return f"<td>{html.escape(json.dumps(value) if isinstance(value, (list, dict)) else str(value))}</td>"


def _chart(title: str, svg: str | None, caption: str, missing: str = "no successful trial yet") -> str:
    if svg is None:
        return f'<h2>{html.escape(title)}</h2><p class="note">{html.escape(missing)}</p>'
    caption_html = f"<figcaption>{html.escape(caption)}</figcaption>"
    return f'<h2>{html.escape(title)}</h2><figure class="chart">{svg}{caption_html}</figure>'


def _failures(trials: Sequence[TrialRecord]) -> str:
    failed = [t for t in trials if t.status == TrialStatus.FAILED]
    if not failed:
        return '<h2>Failures</h2><p class="note">No trial failed.</p>'
    rows = "".join(
        f"<tr>{_cell(t.label or t.id)}{_cell(t.host)}"
        f'<td><pre class="error">{html.escape(t.error or "no reason recorded")}</pre></td></tr>'
        for t in failed
    )
    return f"<h2>Failures ({len(failed)})</h2><table><tr><th>trial</th><th>host</th><th>reason</th></tr>{rows}</table>"


def _uq_section(experiment: Path) -> str | None:
    """The error-vs-std chart of an ensemble's predictions: ``candle uq bootstrap`` writes them in
    ``<experiment>/bootstrap``, ``candle infer`` where it is told."""
    folder = next((f for f in (experiment / "bootstrap", experiment) if (f / PREDICTIONS_CSV).is_file()), None)
    if folder is None:
        return None
    import pandas as pd

    table = pd.read_csv(folder / PREDICTIONS_CSV)
    std_columns = [c for c in table.columns if c.startswith("std_")]
    error_column = next((c for c in ("error", "mean_error") if c in table.columns), None)
    if error_column is None or not std_columns:
        return None
    figures = json.loads((folder / REPORT_JSON).read_text()) if (folder / REPORT_JSON).is_file() else {}
    std = table[std_columns].to_numpy().mean(axis=1)
    figure = error_vs_std_figure(table[error_column].to_numpy(), std, figures, "ensemble")
    return _chart("Uncertainty: error against predicted spread", svg_text(figure), "rows of the predicted part")


def _importance_section(trials: Sequence[TrialRecord], objective: Objective) -> str:
    title = "Parameter importance"
    ok = _succeeded(trials)
    names = sorted({name for t in ok for name in t.params})
    if len(ok) < MIN_TRIALS_FOR_IMPORTANCE or not names:
        return _chart(title, None, "", f"needs {MIN_TRIALS_FOR_IMPORTANCE} successful trials")
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError:
        return _chart(title, None, "", "needs scikit-learn (pip install candle[search])")
    features = np.column_stack([_encoded([t.params.get(name) for t in ok]) for name in names])
    losses = np.array([objective.loss(t.objective or 0.0) for t in ok])
    forest = RandomForestRegressor(n_estimators=200, random_state=0).fit(features, losses)
    order = np.argsort(forest.feature_importances_)
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(7, 0.4 * len(names) + 1.2))
    axis.barh([names[i] for i in order], forest.feature_importances_[order], color="C0")
    axis.set_xlabel("importance (share of the forest's variance reduction)")
    axis.grid(alpha=0.3, axis="x")
    return _chart(title, svg_text(figure), "impurity importance of a random forest fitted to the successful trials")


# --------------------------------------------------------------------------- charts
def _succeeded(trials: Sequence[TrialRecord]) -> list[TrialRecord]:
    """The trials that succeeded with a finite objective."""
    return [t for t in trials if t.status == TrialStatus.OK and t.objective is not None and math.isfinite(t.objective)]


def _progress_svg(trials: Sequence[TrialRecord], objective: Objective) -> str | None:
    points = [(t.id, t.objective, t.status == TrialStatus.OK) for t in trials]
    if not any(ok and value is not None for _, value, ok in points):
        return None
    return svg_text(search_progress_figure(points, objective))


def _encoded(values: Sequence[Any]) -> np.ndarray:
    """Numbers as they are (log10 when they span over two decades and are positive), anything
    else by its rank among the distinct values."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        numbers = np.array(values, dtype=float)
        if numbers.min() > 0 and numbers.max() / numbers.min() > 100:
            return np.log10(numbers)
        return numbers
    labels = sorted({json.dumps(v, sort_keys=True) for v in values})
    return np.array([labels.index(json.dumps(v, sort_keys=True)) for v in values], dtype=float)


def _parallel_svg(trials: Sequence[TrialRecord], objective: Objective) -> str | None:
    ok = _succeeded(trials)
    names = sorted({name for t in ok for name in t.params})
    if not ok or not names:
        return None
    plt = pyplot()
    columns = [_encoded([t.params.get(name) for t in ok]) for name in names]
    columns.append(np.array([t.objective for t in ok], dtype=float))
    labels = [*names, objective.metric]
    scaled = []
    for column in columns:
        span = np.ptp(column)
        scaled.append((column - column.min()) / span if span > 0 else np.full_like(column, 0.5))
    data = np.column_stack(scaled)
    colours = plt.get_cmap("viridis_r" if not objective.maximize else "viridis")(data[:, -1])
    figure, axis = plt.subplots(figsize=(max(6.0, 1.3 * len(labels)), 4.2))
    positions = np.arange(len(labels))
    for row, colour in zip(data, colours, strict=True):
        axis.plot(positions, row, color=colour, alpha=0.7, linewidth=1)
    for position, column in zip(positions, columns, strict=True):
        axis.axvline(position, color="#888", linewidth=0.8)
        axis.annotate(f"{column.min():.3g}", (position, 0), xytext=(3, -12), textcoords="offset points", fontsize=7)
        axis.annotate(f"{column.max():.3g}", (position, 1), xytext=(3, 4), textcoords="offset points", fontsize=7)
    axis.set_xticks(positions, labels, rotation=20, ha="right")
    axis.set_yticks([])
    axis.set_ylim(-0.08, 1.08)
    return svg_text(figure)


def _curves_svg(trials: Sequence[TrialRecord], objective: Objective) -> str | None:
    curves = [(t, objective.series(t.history)) for t in trials if t.history]
    curves = [(t, series) for t, series in curves if series]
    if not curves:
        return None
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(7, 4))
    ok = [t for t, _ in curves if t.status == TrialStatus.OK and t.objective is not None]
    best = min(ok, key=lambda t: objective.loss(t.objective or 0.0)) if ok else None
    for trial, series in curves:
        epochs, values = zip(*series, strict=True)
        if trial is best:
            continue
        axis.plot(epochs, values, color="#9ab", linewidth=0.8, alpha=0.8)
    if best is not None:
        epochs, values = zip(*objective.series(best.history), strict=True)
        axis.plot(epochs, values, color="C3", linewidth=2.2, label=f"best: trial {best.label or best.id}")
        axis.legend()
    axis.set_xlabel("epoch")
    axis.set_ylabel(objective.metric)
    axis.grid(alpha=0.3)
    return svg_text(figure)

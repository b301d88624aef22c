"""TensorBoard: a run's event files (scalars, learning rate, graph), and a search's HParams records
read back by a real TensorBoard server over HTTP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import HANG_SECONDS, SMALL_NT3, run

from candle_core.search.store import ResultsStore
from candle_core.status import TrialStatus

pytest.importorskip("tensorboard")
pytest.importorskip("torch")


def events(logdir: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(logdir))
    accumulator.Reload()
    return accumulator


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_a_run_writes_every_metric_the_learning_rate_and_the_graph(backend, tmp_path):
    if backend == "keras":
        pytest.importorskip("tensorflow")
    results, history = run("nt3", [*SMALL_NT3, "-e", "2", "--backend", backend, "--output_dir", str(tmp_path)])
    board = events(Path(results["params"]["run_dir"]) / "tensorboard")
    tags = set(board.Tags()["scalars"])
    assert {"loss", "val_loss", "accuracy", "val_accuracy", "lr", "seconds"} <= tags
    for tag in ("val_loss", "lr"):
        written = board.Scalars(tag)
        assert [e.step for e in written] == [row["epoch"] for row in history]
        assert [e.value for e in written] == pytest.approx([row[tag] for row in history], rel=1e-6)
    assert len(board.Graph().node) > 5  # the traced network


def test_tensorboard_false_writes_no_event_file(tmp_path):
    results, _ = run("nt3", [*SMALL_NT3, "-e", "1", "--tensorboard", "false", "--output_dir", str(tmp_path)])
    assert not (Path(results["params"]["run_dir"]) / "tensorboard").exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_tensorboards_hparams_view_compares_the_search_trials(testfn_search):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(testfn_search), "--port", str(port)]
        + ["--host", "127.0.0.1", "--load_fast", "false"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}/data/plugin/hparams"
    try:
        deadline = time.monotonic() + HANG_SECONDS
        while True:
            try:
                experiment = post(f"{base}/experiment", {"experimentName": ""})
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
                time.sleep(0.5)
        statuses = ["STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING", "STATUS_UNKNOWN"]
        query = {"experimentName": "", "allowedStatuses": statuses, "colParams": [], "startIndex": 0, "sliceSize": 100}
        groups = post(f"{base}/session_groups", query)
    finally:
        server.terminate()
        server.wait(timeout=60)

    infos = {info["name"]: info for info in experiment["hparamInfos"]}
    assert set(infos) == {"x1", "x2", "optimizer", "fail_epoch"}
    assert infos["x1"]["domainInterval"] == {"minValue": -5.0, "maxValue": 10.0}
    assert sorted(infos["optimizer"]["domainDiscrete"]) == ["adam", "sgd"]
    assert {m["name"]["tag"] for m in experiment["metricInfos"]} == {"search/objective", "val_loss"}

    trials = {f"RUN{t.id:04d}/tensorboard": t for t in ResultsStore(testfn_search / "results.sqlite").trials()}
    sessions = {group["name"]: group for group in groups["sessionGroups"]}
    assert set(sessions) == set(trials)
    for name, trial in trials.items():
        session = sessions[name]
        assert session["hparams"]["optimizer"] == trial.params["optimizer"]
        assert session["hparams"]["x1"] == pytest.approx(trial.params["x1"])
        status = session["sessions"][0]["status"]
        assert status == ("STATUS_SUCCESS" if trial.status == TrialStatus.OK else "STATUS_FAILURE")
        shown = {m["name"]["tag"]: m["value"] for m in session["metricValues"]}
        if trial.objective is not None:
            assert shown["search/objective"] == pytest.approx(trial.objective, rel=1e-6)
    assert any(t.status == TrialStatus.FAILED for t in trials.values())

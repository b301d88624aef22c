"""Scripts written in the upstream CANDLE style (tests/compat/scripts) run unchanged through
``import candle``: real Keras and PyTorch training, data fetched from a real HTTP server on
127.0.0.1 into CANDLE's cache, and the run recorded as ``candle run`` records it."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import serving, tar_gz

pytest.importorskip("keras")
pytest.importorskip("torch")

SCRIPTS = Path(__file__).parent / "scripts"
PLACEHOLDER_URL = "http://127.0.0.1:1/"


def _csv(rows: np.ndarray, header: list[str] | None = None) -> bytes:
    lines = [",".join(header)] if header else []
    lines += [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _data_files() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    files: dict[str, bytes] = {}
    labels = rng.integers(0, 2, 60)
    features = rng.normal(size=(60, 40)).round(4) + labels[:, None] * 0.5
    table = np.column_stack([labels, features])
    files["/nt_train.csv"], files["/nt_test.csv"] = _csv(table[:40]), _csv(table[40:])
    header = ["case_id", "cancer_type"] + [f"g{i}" for i in range(20)]
    rows = [[f"c{i}", f"type{i % 3}", *rng.random(20).round(4)] for i in range(50)]
    files["/P1B1.train.csv"] = _csv(np.array(rows[:40], dtype=object), header)
    files["/P1B1.test.csv"] = _csv(np.array(rows[40:], dtype=object), header)
    from sklearn.datasets import load_digits

    digits = load_digits()
    buffer = io.BytesIO()
    np.savez(buffer, x=(digits.data / 16.0).astype(np.float32), y=digits.target)
    files["/digits.npz"] = buffer.getvalue()
    kinds = rng.integers(0, 3, 90)
    measured = rng.normal(size=(90, 12)).round(4) + kinds[:, None]
    type_rows = [[int(k), f"s{i}", *m] for i, (k, m) in enumerate(zip(kinds, measured, strict=True))]
    type_header = ["type", "sample"] + [f"f{i}" for i in range(12)]
    files["/type-class.tar.gz"] = tar_gz(
        {
            "type-class/type_train.csv": _csv(np.array(type_rows[:70], dtype=object), type_header),
            "type-class/type_test.csv": _csv(np.array(type_rows[70:], dtype=object), type_header),
        }
    )
    members = {}
    for fold in range(2):
        for task, classes in enumerate((4, 2)):
            x = rng.random((30, 10)).round(4)
            members[f"P3B1_like_data/task{task}_{fold}_train_feature.csv"] = _csv(x)
            members[f"P3B1_like_data/task{task}_{fold}_train_label.csv"] = _csv(rng.integers(0, classes, (30, 1)))
    files["/P3B1_like_data.tar.gz"] = tar_gz(members)
    return files


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """The scripts copied to a folder with model files pointing at a live server of their data."""
    folder = tmp_path_factory.mktemp("upstream_scripts")
    with serving(_data_files()) as (base, requests):
        for path in SCRIPTS.iterdir():
            if path.suffix in (".py", ".txt"):
                text = path.read_text().replace(PLACEHOLDER_URL, base)
                (folder / path.name).write_text(text)
        yield folder, requests


def run_script(folder: Path, data: Path, script: str, *args: str, engine: str = "tensorflow"):
    env = {**os.environ, "CANDLE_DATA_DIR": str(data), "KERAS_BACKEND": engine, "PYTHONPATH": str(folder)}
    env.pop("CANDLE_OUTPUT_DIR", None)
    proc = subprocess.run(
        [sys.executable, script, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def recorded_run(data: Path, model: str) -> tuple[dict, list[dict]]:
    run_dir = data / model / "Output" / "EXP000" / "RUN000"
    return json.loads((run_dir / "results.json").read_text()), json.loads((run_dir / "history.json").read_text())


@pytest.mark.parametrize("engine", ["tensorflow", "torch"])
def test_nt3_style_keras_script(upstream, tmp_path, engine):
    folder, requests = upstream
    data = tmp_path / "data"
    proc = run_script(folder, data, "nt3_like_baseline_keras.py", "--epochs", "3", engine=engine)
    assert (data / "Pilot1" / "nt_train.csv").is_file()  # candle_lib's cache layout: $CANDLE_DATA_DIR/<subdir>
    results, history = recorded_run(data, "nt3_like")
    assert [row["epoch"] for row in history] == [1, 2, 3]  # the command line beat the model file
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(history[0])
    assert results["status"] == "ok" and results["params"]["trainable_params"] > 0
    assert results["objective"]["metric"] == "val_loss"
    assert f"trainable_params {results['params']['trainable_params']}" in proc.stdout
    final = json.loads((data / "nt3_like" / "Output" / "EXP000" / "RUN000" / "final_params.json").read_text())
    assert final["epochs"] == 3 and final["model_name"] == "nt3_like"


def test_nt3_style_label_noise_through_a_list_keyword(upstream, tmp_path):
    """NT3's noise model file gives feature_col (an int keyword) a list: it passes through, with a
    warning naming file:line, and label_flip_correlated walks the list."""
    folder, _ = upstream
    noisy = folder / "nt3_like_noise_model.txt"
    noisy.write_text(
        (folder / "nt3_like_default_model.txt")
        .read_text()
        .replace("add_noise = False", "add_noise = True")
        .replace("noise_correlated = False", "noise_correlated = True")
        + "label_noise = 0.5\nfeature_col = [0, 3]\nfeature_threshold = 0.1\n"
    )
    proc = run_script(folder, tmp_path / "data", "nt3_like_baseline_keras.py", "--config_file", noisy.name)
    assert f"{noisy}:" in proc.stderr and "feature_col" in proc.stderr and "passed through" in proc.stderr


def test_p1b1_style_keras_script(upstream, tmp_path):
    folder, _ = upstream
    data = tmp_path / "data"
    run_script(folder, data, "p1b1_like_baseline_keras.py")
    results, history = recorded_run(data, "p1b1_like")
    assert len(history) == 2 and "val_mse" in history[0]
    assert (folder / "save" / "p1b1_like.loss.png").stat().st_size > 1000
    assert (folder / "save" / "p1b1_like.latent.png").stat().st_size > 1000
    log = (folder / "save" / "p1b1_like.log").read_text()  # logfile None in the parameters: the script's own
    assert "Shape x_train: (32, 20)" in log  # 40 rows less 20% validation; 20 genes, case_id dropped
    assert "labels cancer_type:type0,cancer_type:type1,cancer_type:type2" in log  # the one-hot label columns
    assert "[Epoch: 1]" in log  # LoggingCallback through the logger at DEBUG


def test_mnist_style_torch_script_resumes_from_its_checkpoint(upstream, tmp_path):
    folder, _ = upstream
    data = tmp_path / "data"
    first = run_script(folder, data, "mnist_like_torch.py", "--epochs", "2")
    assert "initial_epoch 0" in first.stdout
    assert (data / "mnist_like" / "Data" / "digits.npz").is_file()  # datadir=params["data_dir"]
    ckpts = data / "mnist_like" / "Output" / "EXP000" / "RUN000" / "ckpts"
    assert sorted(p.name for p in ckpts.iterdir()) == ["best", "epoch_0001", "epoch_0002", "latest.json"]
    second = run_script(folder, data, "mnist_like_torch.py", "--epochs", "4")
    assert "initial_epoch 2" in second.stdout
    losses = [float(line.split()[3]) for line in second.stdout.splitlines() if line.startswith("epoch ")]
    assert len(losses) == 2 and losses[-1] < 1.0  # the resumed run trains on from learned weights
    fresh = run_script(folder, tmp_path / "fresh", "mnist_like_torch.py", "--epochs", "1")
    first_losses = [float(line.split()[3]) for line in fresh.stdout.splitlines() if line.startswith("epoch ")]
    assert losses[0] < first_losses[0]


def test_tc1_style_keras_script_checkpoints_and_cyclic_rate(upstream, tmp_path):
    folder, requests = upstream
    data = tmp_path / "data"
    first = run_script(folder, data, "tc1_like_baseline_keras.py")
    assert "initial_epoch 0" in first.stdout
    assert (data / "Pilot1" / "type-class" / "type_train.csv").is_file()  # unpacked where CANDLE unpacks
    rates = json.loads(first.stdout.split("lr per epoch ")[1].splitlines()[0])
    assert len(rates) == 3 and len(set(rates)) == 3 and all(0.01 <= r <= 0.05 for r in rates)  # cycling
    second = run_script(folder, data, "tc1_like_baseline_keras.py", "--epochs", "5")
    assert "initial_epoch 3" in second.stdout
    assert float(second.stdout.split("test accuracy ")[1].split()[0]) > 0.5


def test_p3b1_style_keras_script_with_folds_from_an_archive(upstream, tmp_path):
    folder, _ = upstream
    proc = run_script(folder, tmp_path / "data", "p3b1_like_baseline_keras.py")
    trained = [line for line in proc.stdout.splitlines() if line.startswith("fold ")]
    assert [line.split()[:4] for line in trained] == [
        ["fold", "0", "task", "0"],
        ["fold", "0", "task", "1"],
        ["fold", "1", "task", "0"],
        ["fold", "1", "task", "1"],
    ]
    assert (tmp_path / "data" / "Pilot3" / "P3B1_like_data" / "task0_0_train_feature.csv").is_file()


def test_scripts_stay_free_of_candle_core_imports():
    """The scripts are written against ``import candle`` alone, as upstream scripts are."""
    for script in SCRIPTS.glob("*.py"):
        assert "candle_core" not in script.read_text(), script.name
    assert shutil.which("python") or sys.executable

"""P3B1: one multi-task network (shared layers, a head per task) on both backends."""

import io
import tarfile

import numpy as np
import pytest
from helpers import run

BACKENDS = ["torch", "keras"]
SMALL = ["--shared_nnet_spec", "64", "--ind_nnet_spec", "32:32:32", "-e", "3"]
TASKS = ["primary_site", "tumor_laterality", "histological_grade"]


def _total(result) -> int:
    assert result.code == 0, result.err
    return int(result.out.strip().splitlines()[-1].split(": ")[1])


@pytest.mark.needs("keras")
def test_full_size_summary_is_equal_on_both_backends(candle):
    shared = [400, 1200, 2400, 3600, 3600, 3600, 3600, 3600, 3600, 3600, 2400]
    expected = sum(a * b + b for a, b in zip(shared, shared[1:], strict=False))
    for classes in (13, 2, 4):
        head = [2400, 2400, 2400, 1200, 1200, classes]
        expected += sum(a * b + b for a, b in zip(head, head[1:], strict=False))
    assert [_total(candle("summary", "p3b1", "--backend", name)) for name in BACKENDS] == [expected, expected]


@pytest.mark.parametrize("name", BACKENDS)
def test_reduced_p3b1_learns_every_task(name):
    results, history = run("p3b1", ["--data", "synthetic", "--backend", name, *SMALL, "-e", "6"])
    assert results["data"]["training_rows"] == dict(zip(TASKS, (3900, 600, 1200), strict=False))
    last, chance = history[-1], {"primary_site": 1 / 13, "tumor_laterality": 1 / 2, "histological_grade": 1 / 4}
    for task in TASKS:
        assert f"val_{task}_micro_f1" in last and 0 <= last[f"val_{task}_macro_f1"] <= 1
        assert last[f"val_{task}_accuracy"] > chance[task] + 0.15, (task, last)
    assert last["val_macro_f1"] == pytest.approx(np.mean([last[f"val_{t}_macro_f1"] for t in TASKS]))


@pytest.mark.needs("keras")
def test_both_backends_take_the_same_steps():
    logs = {}
    for name in BACKENDS:
        _, history = run("p3b1", ["--data", "synthetic", "--backend", name, *SMALL, "--run_id", name])
        logs[name] = [(row["loss"], row["val_loss"], row["val_macro_f1"]) for row in history]
    np.testing.assert_allclose(logs["torch"], logs["keras"], rtol=1e-3)


def _archive(rng) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for task, classes in enumerate((13, 2, 4)):
            for split, rows in (("train", 60), ("test", 20)):
                labels = rng.integers(0, classes, rows)
                features = rng.random((rows, 400)) + labels[:, None] * 0.1
                for kind, text in (
                    ("feature", "\n".join(",".join(f"{v:.3f}" for v in row) for row in features)),
                    ("label", "\n".join(f"{float(v):.18e}" for v in labels)),
                ):
                    data = (text + "\n").encode()
                    info = tarfile.TarInfo(f"P3B1_data/data/task{task}_0_{split}_{kind}.csv")
                    info.size = len(data)
                    archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_served_archive_trains(file_server):
    base, files = file_server
    files["/P3B1/P3B1_data.tar.gz"] = _archive(np.random.default_rng(0))
    results, history = run("p3b1", ["--data_url", base + "P3B1/", *SMALL, "-e", "2"])
    assert results["data"]["training_rows"] == dict(zip(TASKS, (60, 60, 60), strict=False))
    assert all(f"val_{task}_macro_f1" in history[-1] for task in TASKS)


def test_labels_beyond_classes_are_a_clear_error(file_server, candle):
    base, files = file_server
    files["/P3B1/P3B1_data.tar.gz"] = _archive(np.random.default_rng(0))
    result = candle("run", "p3b1", "--data_url", base + "P3B1/", "--classes", "13", "2", "3", *SMALL)
    assert result.code == 2 and "task histological_grade has label 3, but classes gives it 3 classes" in result.err


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--classes", "13", "2"], "feature_names names 3 tasks but classes gives 2"),
        (["--ind_nnet_spec", "32:32"], "ind_nnet_spec has 2 task stacks"),
    ],
)
def test_inconsistent_tasks_are_clear_errors(candle, flags, words):
    result = candle("run", "p3b1", "--data", "synthetic", "--shared_nnet_spec", "8", *flags, "-e", "1")
    assert result.code == 2 and words in result.err and "Traceback" not in result.err, result.err

"""Device selection and precision: the device keyword, rank -> GPU, errors and what results.json records."""

import json
from pathlib import Path

import pytest

from candle_core.device import GPU, check_precision, choose_device, device_record, parse_device
from candle_core.errors import CandleError
from tests.helpers import SMALL_NT3

H200 = [GPU(i, "NVIDIA H200", 150 * 2**30) for i in range(4)]


@pytest.mark.parametrize(
    "text, parsed",
    [("auto", ("auto", None)), ("CPU", ("cpu", None)), ("cuda", ("cuda", None)), ("cuda:3", ("cuda", 3))],
)
def test_device_values_parse(text, parsed):
    assert parse_device(text) == parsed


@pytest.mark.parametrize("text", ["gpu", "cuda:", "cuda:-1", "cpu:0", "auto:1", "tpu", ""])
def test_bad_device_values_are_refused(text):
    with pytest.raises(CandleError, match="expected auto, cpu, cuda or cuda:N"):
        parse_device(text)


def test_ranks_of_a_node_take_their_own_gpus():
    assert [choose_device("auto", H200, rank) for rank in range(6)] == [f"cuda:{i}" for i in (0, 1, 2, 3, 0, 1)]
    assert [choose_device("cuda", H200, rank, allowed=[2, 3]) for rank in range(3)] == ["cuda:2", "cuda:3", "cuda:2"]
    assert choose_device("cuda:1", H200, 3) == "cuda:1"  # an explicit index wins over the rank
    assert choose_device("cpu", H200, 0) == "cpu"
    assert choose_device("auto", [], 0) == "cpu"  # no GPU: the CPU


def test_gpu_errors_name_what_is_visible():
    with pytest.raises(CandleError, match="no GPU is visible"):
        choose_device("cuda", [], 0)
    with pytest.raises(CandleError, match="no such GPU.*cuda:0, cuda:1"):
        choose_device("cuda:7", H200[:2], 0)
    with pytest.raises(CandleError, match="GPU 9 is not visible"):
        choose_device("auto", H200, 0, allowed=[0, 9])


def test_precisions_and_their_warnings():
    assert check_precision("bf16", "cpu") == [] and check_precision("tf32", "cuda:0") == []
    assert "no effect on the CPU" in check_precision("tf32", "cpu")[0]
    with pytest.raises(CandleError, match="fp32, tf32, bf16, fp16"):
        check_precision("fp8", "cpu")


def test_results_record_the_gpu(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    record = device_record("cuda:1", H200, "bf16")
    assert record["device"] == "cuda:1" and record["precision"] == "bf16"
    assert record["gpu"]["name"] == "NVIDIA H200" and record["gpu"]["memory_gib"] == 150.0


def test_cuda_without_a_gpu_is_one_line_and_exit_2(candle, tmp_path):
    for device, message in (("cuda", "no GPU is visible"), ("gpu", "expected a device (auto, cpu, cuda or cuda:N)")):
        done = candle("run", "nt3", *SMALL_NT3, "-e", "1", "--device", device, env={"CUDA_VISIBLE_DEVICES": ""})
        assert done.code == 2 and message in done.err and "Traceback" not in done.err
        assert len(done.err.strip().splitlines()) == 1


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_cpu_runs_record_device_and_precision(candle, tmp_path, backend):
    flags = [*SMALL_NT3, "-e", "1", "--backend", backend, "--output_dir", str(tmp_path), "--precision", "tf32"]
    done = candle("run", "nt3", *flags, "--device", "cpu", timeout=300)
    assert done.code == 0, done.err
    assert "tf32 has no effect on the CPU" in done.err  # warned, trained in fp32
    results = json.loads(next(Path(tmp_path).glob("*/*/results.json")).read_text())
    assert results["placement"]["device"] == "cpu" and results["placement"]["precision"] == "tf32"


@pytest.mark.parametrize("backend", ["torch", "keras"])
@pytest.mark.slow  # 1.5-2 min on 2 cores: emulated float16 on a CPU
def test_fp16_trains_with_loss_scaling(candle, tmp_path, backend):
    flags = [*SMALL_NT3, "-e", "2", "--backend", backend, "--output_dir", str(tmp_path), "--precision", "fp16"]
    done = candle("run", "nt3", *flags, timeout=300)
    assert done.code == 0, done.err
    history = json.loads(next(Path(tmp_path).glob("*/*/history.json")).read_text())
    assert all(row["loss"] == row["loss"] for row in history) and history[-1]["loss"] < history[0]["loss"] + 1e-3


def test_candle_env_shows_backends_and_gpus(candle):
    done = candle("env", timeout=300)
    assert done.code == 0, done.err
    assert "backend torch: torch" in done.out and "CUDA_VISIBLE_DEVICES" in done.out
    report = json.loads(candle("env", "--json", timeout=300).out)
    torch_entry = next(entry for entry in report["backends"] if entry["backend"] == "torch")
    assert torch_entry["status"] == "ok" and isinstance(torch_entry["gpus"], list)
    assert {"nccl", "gloo", "ring"} <= set(report["communicators"])

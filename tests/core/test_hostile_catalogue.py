"""One hundred hostile inputs through the real ``candle`` command: each must be answered with
one line on standard error and exit status 2 — no traceback, nothing accepted silently.

The catalogue is separate from the cases that issue 14 listed (those have tests of their own):
flags, model files, search spaces, UPF files and other commands, each wrong in its own way.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SPACE_BASE = ["search", "testfn", "--budget", "1", "-e", "1", "--space"]


def _flags():
    wrong = [
        ["-z", "2.5"], ["-z", "abc"], ["-e", "1.5"], ["-e", ""], ["--epochs", "1e400"], ["-lr", "0"],
        ["-lr", "-inf"], ["-lr", "1e-400"], ["--momentum", "1.5"], ["--momentum", "-0.1"], ["--dropout", "1"],
        ["--dropout", "nan"], ["--val_split", "1"], ["--val_split", "-0.2"], ["--beta_1", "1"], ["--beta_2", "2"],
        ["--rho", "-1"], ["--epsilon", "0"], ["--decay", "-1"], ["--clipnorm", "0"], ["--clipvalue", "-1"],
        ["--timeout", "-2"], ["--rng_seed", "99999999999"], ["--rng_seed", "1.5"], ["--pool", "0"],
        ["--dense", "10", "-1"], ["--dense", "a", "b"], ["--conv", "1", "2", "x"], ["--ckpt_keep_limit", "0"],
        ["--ckpt_save_interval", "-1"], ["--ckpt_restart_mode", "maybe"], ["--scaling", "minabs"],
        ["--initialization", "he_unif"], ["--data_type", "f128"], ["--precision", "fp8"], ["--device", "tpu"],
        ["--device", "cuda:x"], ["--comm_timeout", "0"], ["--early_stop_patience", "0"], ["--reduce_lr_factor", "1"],
    ]  # fmt: skip
    return [pytest.param(["params", "nt3", *flags], None, id=f"flag {' '.join(flags)}") for flags in wrong]


NT3_MODEL = (Path(__file__).parents[2] / "benchmarks" / "nt3" / "nt3_default_model.txt").read_text()

# name -> (key whose line in NT3's own model file the hostile line replaces, the hostile line)
BROKEN_KEYS = {
    "empty value": ("epochs", "epochs ="),
    "unterminated text": ("activation", "activation = 'relu"),
    "mixed list": ("dense", "dense = [1, 'a']"),
    "nested list": ("dense", "dense = [[1]]"),
    "dict value": ("dense", "dense = {'a': 1}"),
    "infinite epochs": ("epochs", "epochs = 1e999"),
    "boolean epochs": ("epochs", "epochs = True"),
    "zero batch": ("batch_size", "batch_size = 0"),
    "dropout 2": ("dropout", "dropout = 2"),
    "text rate": ("learning_rate", "learning_rate = 'fast'"),
    "call": ("epochs", "epochs = int('3')"),
}
MODEL_FILES = {
    name: "\n".join([*(line for line in NT3_MODEL.splitlines() if not line.startswith(key)), hostile]) + "\n"
    for name, (key, hostile) in BROKEN_KEYS.items()
} | {
    "key without value": "[Global_Params]\nepochs\n",
    "duplicate key": "[Global_Params]\nepochs = 1\nepochs = 2\n",
    "duplicate section": "[Global_Params]\nepochs = 1\n[Global_Params]\nbatch_size = 2\n",
    "no section": "epochs = 3\n",
    "only equals": "[Global_Params]\n= 5\n",
    "empty file": "",
}


def _model_files():
    cases = [pytest.param(["params", "nt3", "--config_file", "{file}"], text, id=f"model file: {name}")
             for name, text in MODEL_FILES.items()]  # fmt: skip
    cases.append(pytest.param(["params", "nt3", "--config_file", "{file}"], b"\x00\xff" * 99, id="model file: binary"))
    cases.append(pytest.param(["params", "nt3", "--config_file", "{file}"], "x" * (5 << 20), id="model file: 5 MB"))
    cases.append(pytest.param(["params", "nt3", "--config_file", "/nonexistent/m.txt"], None, id="model file: missing"))
    return cases


SPACES = {
    "empty list": [],
    "object": {"name": "x1"},
    "no type": [{"name": "x1", "lower": 0, "upper": 1}],
    "unknown type": [{"name": "x1", "type": "normal", "lower": 0, "upper": 1}],
    "text lower": [{"name": "x1", "type": "float", "lower": "0", "upper": 1}],
    "null upper": [{"name": "x1", "type": "float", "lower": 0, "upper": None}],
    "values not a list": [{"name": "x1", "type": "categorical", "values": 0.5}],
    "twice": [{"name": "x1", "type": "logical"}, {"name": "x1", "type": "float", "lower": 0, "upper": 1}],
    "not a keyword": [{"name": "x9", "type": "float", "lower": 0, "upper": 1}],
    "float epochs": [{"name": "epochs", "type": "float", "lower": 1, "upper": 3}],
    "epochs from 0": [{"name": "epochs", "type": "int", "lower": 0, "upper": 3}],
    "rate from 0": [{"name": "learning_rate", "type": "float", "lower": 0, "upper": 1}],
    "log below 0": [{"name": "x1", "type": "float", "lower": -1, "upper": 1, "log": True}],
    "text sigma": [{"name": "x1", "type": "float", "lower": 0, "upper": 1, "sigma": "x"}],
    "complex elements": [{"name": "x1", "type": "categorical", "element_type": "complex", "values": [1]}],
    "run_id": [{"name": "run_id", "type": "categorical", "values": ["a", "b"]}],
    "output_dir": [{"name": "output_dir", "type": "constant", "value": "/tmp"}],
    "constant without value": [{"name": "x1", "type": "constant"}],
}


def _spaces():
    cases = [pytest.param([*SPACE_BASE, "{file}"], json.dumps(entries), id=f"space: {name}")
             for name, entries in SPACES.items()]  # fmt: skip
    cases.append(pytest.param([*SPACE_BASE, "{file}"], "[{'name': 'x1'}]", id="space: not JSON"))
    cases.append(pytest.param([*SPACE_BASE, "{file}"], bytes(range(256)), id="space: binary"))
    return cases


UPF = {
    "not JSON": "{id: 1}\n",
    "array line": '["a", 1]\n',
    "no id": '{"x1": 0.5}\n',
    "same id": '{"id": "a"}\n{"id": "a"}\n',
    "empty": "",
    "comments only": "# nothing\n# here\n",
    "experiment_id": '{"id": "a", "experiment_id": "../E"}\n',
    "binary": b"\x89PNG\r\n\x1a\n\x00\x00",
}


def _upfs():
    cases = [
        pytest.param(["upf", "testfn", "{file}", "-e", "1"], text, id=f"upf: {name}") for name, text in UPF.items()
    ]
    cases.append(pytest.param(["upf", "testfn", "/nonexistent/u.upf"], None, id="upf: missing"))
    cases.append(pytest.param(["upf", "testfn", "{dir}"], None, id="upf: a folder"))
    return cases


def _others():
    space = json.dumps([{"name": "x1", "type": "float", "lower": 0, "upper": 1}])
    return [
        pytest.param(["results", "/nonexistent/EXP"], None, id="results: missing"),
        pytest.param(["results", "{file}"], "not a database\n", id="results: text file"),
        pytest.param(["infer", "bcw", "--run", "{dir}", "--mc-samples", "1"], None, id="infer: one sample"),
        pytest.param(["infer", "bcw", "--run", "/nonexistent/RUN"], None, id="infer: missing run"),
        pytest.param([*SPACE_BASE, "{file}", "--budget", "0"], space, id="search: budget 0"),
        pytest.param([*SPACE_BASE, "{file}", "--workers", "-1"], space, id="search: workers -1"),
        pytest.param([*SPACE_BASE, "{file}", "--algorithm", "nope"], space, id="search: algorithm"),
        pytest.param([*SPACE_BASE, "{file}", "--evaluator", "nope"], space, id="search: evaluator"),
        pytest.param(["container", "exec", "img", "--bind", "x:y", "--", "true"], None, id="exec: bind pair"),
        pytest.param(["run", "nt4"], None, id="run: no such benchmark"),
    ]


CASES = [*_flags(), *_model_files(), *_spaces(), *_upfs(), *_others()]


def test_the_catalogue_has_one_hundred_inputs():
    assert len(CASES) == 100


@pytest.mark.parametrize("argv, content", CASES)
def test_hostile_input_gets_one_line_and_exit_2(argv, content, tmp_path, candle_dirs):
    file = tmp_path / "input"
    if content is not None:
        file.write_bytes(content if isinstance(content, bytes) else content.encode())
    folder = tmp_path / "folder"
    folder.mkdir()
    argv = [word.replace("{file}", str(file)).replace("{dir}", str(folder)) for word in argv]
    done = subprocess.run(
        [sys.executable, "-m", "candle_core.cli", *argv], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    lines = [line for line in done.stderr.splitlines() if line.strip() and "warning" not in line]
    assert done.returncode == 2, f"accepted: exit {done.returncode}; {done.stderr[-500:]}"
    assert "Traceback" not in done.stderr and len(lines) == 1 and lines[0].startswith("candle"), done.stderr[-800:]

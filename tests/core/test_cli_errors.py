"""Bad input: exit status 2, one clear line naming the key and file:line (or flag), no traceback."""

import json
import subprocess
from pathlib import Path

import pytest

# (file content or None, extra argv, words every message must contain). "{file}" is the
# model file's path; a file case's words include its file:line.
CASES = [
    ("epochs = 'ten'", [], ["{file}:2", "'epochs'", "an integer", "'ten'"]),
    ("learning_rate = 'fast'", [], ["{file}:2", "'learning_rate'", "a number"]),
    ("shuffle = 'maybe'", [], ["{file}:2", "'shuffle'", "boolean"]),
    ("dense = [200, 'x']", [], ["{file}:2", "'dense'", "list of integers"]),
    ("dense = 200.5", [], ["{file}:2", "'dense'", "integer"]),
    ("scaling = 'minabs'", [], ["{file}:2", "'scaling'", "maxabs?)"]),
    ("activation = relu", [], ["{file}:2", "'activation'", "quoted: write 'relu'"]),
    ("epochs =", [], ["{file}:2", "'epochs'", "no value"]),
    ("conv = [1, 2", [], ["{file}:2", "'conv'", "not a Python literal"]),
    ("epochs = True", [], ["{file}:2", "'epochs'", "an integer"]),
    ("optimizer = 5", [], ["{file}:2", "'optimizer'", "quote it"]),
    ("experiment_id = ['a']", [], ["{file}:2", "'experiment_id'", "not a list"]),
    ("initialization = 'he_norml'", [], ["{file}:2", "'initialization'", "did you mean he_normal"]),
    ("data_type = 'f8'", [], ["{file}:2", "'data_type'", "f16, f32, f64"]),
    ("epoch = 5", ["--strict"], ["{file}:2", "'epoch'", "did you mean epochs"]),
    ("rng_seed = 'abc'", [], ["{file}:2", "'rng_seed'", "an integer"]),
    ("timeout = [1]", [], ["{file}:2", "'timeout'", "not a list"]),
    ("x1 = 'left'", [], ["{file}:2", "'x1'", "a number"]),
    ("function = 'branim'", [], ["{file}:2", "'function'", "did you mean branin"]),
    ("just some words", [], ["{file}:2", "expected 'key = value'"]),
    ("NOHEADER", [], ["{file}:1", "section header"]),
    ("epochs = 1\nepochs = 2", [], ["{file}:3", "'epochs'", "twice"]),
    ("epochs = 1\n[Global_Params]", [], ["{file}:3", "Global_Params", "appears twice"]),
    (None, ["--epochs", "ten"], ["--epochs", "an integer", "'ten'"]),
    (None, ["--epoch", "5"], ["--epoch", "did you mean --epochs"]),
    (None, ["-lr", "abc"], ["-lr", "a number"]),
    (None, ["--scaling", "minabs"], ["--scaling", "(did you mean minmax or maxabs?)"]),
    (None, ["--dense", "1", "x"], ["--dense", "list of integers"]),
    (None, ["--shuffle", "maybe"], ["--shuffle", "boolean"]),
    (None, ["--epochs"], ["--epochs", "expected one argument"]),
    (None, ["stray"], ["'stray'", "unexpected argument"]),
    (None, ["--config_file", "no_such_file.txt"], ["--config_file", "no_such_file.txt", "not found"]),
    (None, ["--function", "sphere", "--fail", "sometimes"], ["--fail", "one of {{none, raise, abort, hang}}"]),
]


def _model_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad_model.txt"
    if body == "NOHEADER":
        path.write_text("epochs = 3\n")
    else:
        path.write_text("[Global_Params]\n" + body + "\n")
    return path


@pytest.mark.parametrize("body, argv, words", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_input(candle, tmp_path, body, argv, words):
    args = ["params", "testfn", *argv]
    path = None
    if body is not None:
        path = _model_file(tmp_path, body)
        args += ["--config_file", str(path)]
    result = candle(*args)
    assert result.code == 2, result
    assert "Traceback" not in result.err
    assert result.err.startswith("candle: error: ")
    for word in words:
        assert word.format(file=path) in result.err, (word, result.err)


def test_missing_required_keys_are_all_listed(candle, tmp_path):
    path = tmp_path / "partial.txt"
    path.write_text("[Global_Params]\nepochs = 3\n")
    result = candle("params", "nt3", "--config_file", str(path))
    assert result.code == 2 and "Traceback" not in result.err
    for key in ("activation", "batch_size", "conv", "data_url", "dense", "dropout", "learning_rate", "pool"):
        assert key in result.err
    assert str(path) in result.err


def test_bad_list_of_lists_flag(candle):
    result = candle("params", "p3b1", "--ind_nnet_spec", "1,a:3")
    assert result.code == 2 and "--ind_nnet_spec" in result.err and "integer" in result.err


def test_flat_list_for_list_of_lists_in_file(candle, tmp_path):
    path = tmp_path / "p3.txt"
    path.write_text(
        Path(__file__)
        .parents[2]
        .joinpath("benchmarks/p3b1/p3b1_default_model.txt")
        .read_text()
        .replace("ind_nnet_spec = '", "ind_nnet_spec = [1, 2]\n#'")
    )
    result = candle("params", "p3b1", "--config_file", str(path))
    assert result.code == 2 and "'ind_nnet_spec'" in result.err and "list of lists" in result.err
    assert f"{path}:" in result.err


def test_unknown_benchmark_lists_known_ones(candle):
    result = candle("run", "nt4")
    assert result.code == 2 and "Traceback" not in result.err
    assert "unknown benchmark 'nt4' (did you mean nt3?)" in result.err and "testfn" in result.err


def test_unreadable_config_file(candle, tmp_path):
    result = candle("params", "testfn", "--config_file", str(tmp_path))
    assert result.code == 2 and "is a directory" in result.err


def test_debug_shows_the_traceback(candle):
    result = candle("--debug", "params", "testfn", "--epochs", "ten")
    assert result.code != 0 and "Traceback" in result.err and "CandleError" in result.err


def test_unknown_file_key_warns_with_file_and_line(candle, tmp_path):
    path = _model_file(tmp_path, "epochs = 2\nbatchsize = 5")
    result = candle("params", "testfn", "--config_file", str(path), "--json")
    assert result.code == 0
    assert f"candle: warning: {path}:3: unknown keyword 'batchsize' (did you mean batch_size?)" in result.err


def test_all_problems_of_file_and_flags_at_once(candle, tmp_path):
    path = _model_file(tmp_path, "epochs = 'ten'\nactivation = relu")
    result = candle("params", "testfn", "--config_file", str(path), "--epoch", "5", "--scaling", "minabs")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 4, lines  # the unknown flag's value '5' is not reported as a stray word
    assert "unknown keyword --epoch (did you mean --epochs?)" in lines[0]
    assert any(f"{path}:2: key 'epochs'" in line for line in lines)
    assert any(f"{path}:3: key 'activation'" in line for line in lines)
    assert any("--scaling" in line for line in lines)


def test_negative_numbers_are_values(candle):
    result = candle("params", "testfn", "--json", "--x1", "-2.5", "--x2", "-1e-3")
    assert result.code == 0, result.err
    values = json.loads(result.out)
    assert values["x1"]["value"] == -2.5 and values["x2"]["value"] == -1e-3


@pytest.mark.parametrize(
    "flags, key, expected",
    [
        (["-z", "0"], "-z", "an integer in [1, inf)"),
        (["-z", "-5"], "-z", "an integer in [1, inf)"),
        (["--dropout", "1.5"], "--dropout", "a number in [0, 1)"),
        (["--dropout", "-0.5"], "--dropout", "a number in [0, 1)"),
        (["--dense", "0"], "--dense", "a list of integers in [1, inf)"),
        (["--feature_subsample", "-5"], "--feature_subsample", "an integer in [0, inf)"),
        (["-lr", "nan"], "-lr", "(finite)"),
        (["-lr", "inf"], "-lr", "(finite)"),
        (["-lr", "-0.1"], "-lr", "a number in (0, inf)"),
        (["-e", "-3"], "-e", "an integer in [1, inf)"),
    ],
)
def test_values_out_of_range_are_one_line_errors(candle, flags, key, expected):
    result = candle("run", "nt3", "--data", "synthetic", *flags)
    assert result.code == 2 and "Traceback" not in result.err
    assert (
        result.err.strip().splitlines() == [f"candle: error: command line {key}: expected {expected}, got {flags[1]!r}"]
        or expected in result.err
    )


def test_model_file_values_out_of_range_name_file_and_line(candle, tmp_path):
    path = tmp_path / "model.txt"
    path.write_text("[Global_Params]\nepochs = -3\nbatch_size = 20\n")
    result = candle("params", "nt3", "--config_file", str(path))
    assert result.code == 2 and f"{path}:2: key 'epochs': expected an integer in [1, inf), got -3" in result.err


@pytest.fixture
def small_file_systems(tmp_path):
    """A full (24 KiB) and a read-only tmpfs, mounted for the test (root only; skipped elsewhere)."""
    full, read_only = tmp_path / "full", tmp_path / "read_only"
    full.mkdir()
    read_only.mkdir()
    mounted = []
    for folder, options in ((full, "size=24k"), (read_only, "ro")):
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
        if done.returncode != 0:
            for path in mounted:
                subprocess.run(["umount", str(path)])
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(folder)
    yield full, read_only
    for path in mounted:
        subprocess.run(["umount", str(path)])


def test_full_and_read_only_output_file_systems_are_one_line_errors(candle, small_file_systems):
    full, read_only = small_file_systems
    for folder, message in ((full, "No space left on device"), (read_only, "Read-only file system")):
        done = candle("run", "bcw", "-e", "1", "--output_dir", str(folder / "out"), timeout=300)
        assert done.code == 2 and message in done.err and "Traceback" not in done.err
        assert len(done.err.strip().splitlines()) == 1


def test_infer_on_another_benchmarks_run_is_refused(candle, tmp_path):
    assert candle("run", "bcw", "-e", "1", "--output_dir", str(tmp_path), timeout=300).code == 0
    run_dir = next(tmp_path.glob("*/*/final_params.json")).parent
    done = candle("infer", "nt3", "--run", str(run_dir))
    assert done.code == 2 and "a run of benchmark bcw, not nt3" in done.err and "Traceback" not in done.err

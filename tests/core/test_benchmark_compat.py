"""A CANDLE-compliant script ports by changing its import."""

import json
import subprocess
import sys
import textwrap

SCRIPT = """
import json, os
import candle_core as candle

file_path = os.path.dirname(os.path.realpath(__file__))
additional_definitions = [
    {"name": "classes", "type": int, "default": 2},
    {"name": "spec", "action": "list-of-lists"},
    {"name": "mixed", "type": candle.str2bool, "default": False},
]
required = ["epochs", "classes", "dense"]

class BenchmarkDemo(candle.Benchmark):
    def set_locals(self):
        if required is not None:
            self.required = set(required)
        if additional_definitions is not None:
            self.additional_definitions = additional_definitions

bmk = BenchmarkDemo(file_path, "demo_default_model.txt", "keras", prog="demo_baseline", desc="a demo")
params = candle.finalize_parameters(bmk)
params["data_type"] = params["data_type"].__name__
print(json.dumps(params))
"""


def write_script(tmp_path, model="[Global_Params]\nmodel_name = 'demo'\nepochs = 3\ndense = [10, 5]\nspec = '1,2:3'\n"):
    (tmp_path / "demo.py").write_text(textwrap.dedent(SCRIPT))
    (tmp_path / "demo_default_model.txt").write_text(model)
    return tmp_path / "demo.py"


def test_ported_script_gets_candle_parameters(tmp_path, candle_dirs):
    script = write_script(tmp_path)
    proc = subprocess.run([sys.executable, str(script), "-e", "4", "--mixed", "yes"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    params = json.loads(proc.stdout)
    assert params["epochs"] == 4 and params["classes"] == 2 and params["dense"] == [10, 5]
    assert params["spec"] == [[1, 2], [3]] and params["mixed"] is True
    assert params["data_type"] == "float32" and params["rng_seed"] == 7102
    run_dir = candle_dirs / "demo" / "Output" / "EXP000" / "RUN000"
    assert params["output_dir"] == str(run_dir)  # CANDLE: output_dir is the run directory
    assert json.loads((run_dir / "final_params.json").read_text())["epochs"] == 4


def test_ported_script_user_error_is_one_line(tmp_path):
    script = write_script(tmp_path, model="[Global_Params]\nepochs = 3\n")
    proc = subprocess.run([sys.executable, str(script), "--classes", "two"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == "demo_baseline: error: command line --classes: expected an integer, got 'two'"
    assert "requires keys that are not set: dense" in lines[1]


def test_ported_script_help(tmp_path):
    script = write_script(tmp_path)
    proc = subprocess.run([sys.executable, str(script), "-h"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--classes" in proc.stdout and "a demo" in proc.stdout

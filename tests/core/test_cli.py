import json
import subprocess
import sys

from candle_core.cli import main


def test_help_lists_commands_and_loads_no_framework():
    """What keeps ``candle --help`` quick, asserted as behaviour (no timing on a shared machine)."""
    code = (
        "import sys\nfrom candle_core.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('torch', 'tensorflow', 'keras', 'mpi4py', 'horovod', 'sklearn', 'matplotlib', 'pandas')\n"
        "print('loaded:', [m for m in heavy if m in sys.modules])"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for command in ("run", "params", "list", "plugins", "env"):
        assert command in proc.stdout
    assert "loaded: []" in proc.stdout


def test_import_candle_core_imports_no_framework():
    code = (
        "import sys, candle_core, candle_core.cli, candle_core.plugin_manager;"
        "heavy = ('torch', 'tensorflow', 'keras', 'mpi4py', 'horovod', 'numpy', 'sklearn');"
        "heavy = [m for m in heavy if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("candle 0.")


def test_list_json(capsys):
    assert main(["list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["testfn"]["trains"] == "self-contained"
    assert rows["nt3"]["model_file"].endswith("nt3_default_model.txt")


def test_params_table_and_all(capsys):
    assert main(["params", "testfn", "-e", "3"]) == 0
    out = capsys.readouterr().out
    assert "epochs" in out and "command line -e" in out
    assert main(["params", "testfn", "--json", "--all"]) == 0
    params = json.loads(capsys.readouterr().out)
    assert params["dense"] == {"value": None, "source": "unset"}
    assert list(params) == sorted(params)


def test_benchmark_help_lists_keywords(capsys):
    try:
        main(["run", "nt3", "--help"])
    except SystemExit as exit_:
        assert exit_.code == 0
    out = capsys.readouterr().out
    assert "--epochs EPOCHS, -e EPOCHS" in out and "--classes CLASSES" in out and "-lr" in out


def test_command_without_benchmark(capsys):
    assert main(["run"]) == 2
    assert "name a benchmark" in capsys.readouterr().err


def test_run_writes_outputs_and_final_parameters_round_trip(candle, candle_dirs):
    result = candle(
        "run",
        "testfn",
        "--function",
        "sphere",
        "--x1",
        "0",
        "--x2",
        "0",
        "--x3",
        "0",
        "--x4",
        "0",
        "--x5",
        "0",
        "--x6",
        "0",
        "-e",
        "12",
        "--experiment_id",
        "E1",
    )
    assert result.code == 0, result.err
    run_dir = candle_dirs / "testfn" / "Output" / "E1" / "RUN000"
    assert f"outputs in {run_dir}" in result.out
    results = json.loads((run_dir / "results.json").read_text())
    assert results["status"] == "ok" and results["stop_reason"] == "completed" and results["epochs_run"] == 12
    assert results["objective"]["metric"] == "val_loss" and results["objective"]["best_epoch"] == 12
    last = results["final_metrics"]["val_loss"]
    assert f"candle: last epoch: val_loss {last:.4g}" in result.out
    assert 0 < results["objective"]["best"] < 0.03  # sphere at the origin: converges to 0
    history = json.loads((run_dir / "history.json").read_text())
    assert [row["epoch"] for row in history] == list(range(1, 13))
    assert (run_dir / "history.csv").read_text().splitlines()[0].startswith("epoch,loss,val_loss")
    final = json.loads((run_dir / "final_params.json").read_text())
    assert final["function"] == "sphere" and final["run_dir"] == str(run_dir)
    # final_params.txt is a CANDLE model file: feeding it back reproduces the run's parameters
    again = json.loads(candle("params", "testfn", "--json", "--config_file", str(run_dir / "final_params.txt")).out)
    for key, value in final.items():
        if key not in ("config_file",):
            assert again[key]["value"] == value, key

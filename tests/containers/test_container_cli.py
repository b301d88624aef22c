"""candle container recipe/build/exec: output and errors (no image is built here; see test_image)."""

from pathlib import Path

import pytest

from candle_containers.runtimes import Apptainer, Charliecloud, Docker, Podman, passed_environment

RECIPES = Path(__file__).parents[2] / "recipes"


@pytest.mark.needs("hpccm")
def test_recipe_prints_the_checked_in_file(candle):
    done = candle("container", "recipe", "--backend", "keras", "--format", "singularity")
    assert done.code == 0 and done.out == (RECIPES / "keras.def").read_text()


def test_errors_name_the_choices(candle):
    wrong = candle("container", "recipe", "--backend", "torchh")
    assert wrong.code == 2 and "did you mean torch?" in wrong.err and "Traceback" not in wrong.err
    unknown = candle("container", "build", "--runtime", "podmn")
    assert unknown.code == 2 and "did you mean podman?" in unknown.err
    missing = candle("container", "build", "--runtime", "apptainer")
    if not Apptainer().available():
        assert missing.code == 2 and "apptainer is not installed here" in missing.err
    no_command = candle("container", "exec", "some-image")
    assert no_command.code == 2 and "name the command to run" in no_command.err


def test_exec_command_lines_bind_folders_and_pass_the_environment(tmp_path):
    env = passed_environment(
        {"CANDLE_DATA_DIR": "/d", "PMI_FD": "5", "PMI_RANK": "1", "HOME": "/root", "OMP_NUM_THREADS": "1"}
    )
    assert env == {"CANDLE_DATA_DIR": "/d", "PMI_FD": "5", "PMI_RANK": "1", "OMP_NUM_THREADS": "1"}
    line = Podman().exec_command("img", ["candle", "list"], [tmp_path], env, tmp_path)
    assert line[:2] == ["podman", "run"] and line[-3:] == ["img", "candle", "list"]
    assert f"{tmp_path}:{tmp_path}" in line and "--preserve-fds=3" in line and "PMI_RANK" in line
    assert not any("=/d" in word or word.endswith("=1") for word in line)  # values never on a command line
    assert Podman().process_environment(env)["CANDLE_DATA_DIR"] == "/d"
    apptainer = Apptainer().exec_command("candle.sif", ["candle", "list"], [tmp_path], env, tmp_path)
    assert apptainer[:2] == ["apptainer", "exec"] and ["--bind", f"{tmp_path}:{tmp_path}"] == apptainer[4:6]
    assert not any("/d" == word.split("=")[-1] for word in apptainer)
    assert Apptainer().process_environment(env)["APPTAINERENV_PMI_RANK"] == "1"
    squashfs = tmp_path / "candle.sqfs"
    squashfs.touch()
    charlie = Charliecloud().exec_command(str(squashfs), ["candle"], [tmp_path], env, tmp_path)
    assert charlie[0] == "ch-run" and charlie[-3:] == [str(squashfs), "--", "candle"]
    folder = tmp_path / "exported"
    folder.mkdir()
    writable = Charliecloud().exec_command(str(folder), ["candle"], [], {}, tmp_path)
    assert "-w" in writable and "-w" not in charlie  # a directory image gets its mount points made


def test_gpu_flags_per_runtime(tmp_path):
    podman = Podman().exec_command("img", ["nvidia-smi"], [], {}, tmp_path, gpu=True)
    assert podman[podman.index("--device") + 1] == "nvidia.com/gpu=all" and podman[-2:] == ["img", "nvidia-smi"]
    assert "--nv" in Apptainer().exec_command("c.sif", ["x"], [], {}, tmp_path, gpu=True)
    assert "--nv" not in Apptainer().exec_command("c.sif", ["x"], [], {}, tmp_path)
    docker = Docker().exec_command("img", ["x"], [], {}, tmp_path, gpu=True)
    assert docker[docker.index("--gpus") + 1] == "all"
    assert "ch-fromhost --nvidia" in Charliecloud().gpu_note()
    assert Podman().gpu_note() is None


@pytest.mark.needs("hpccm")
def test_gpu_image_builds_ignore_the_host_cpu_wheels(tmp_path, capsys):
    from candle_containers.cli import make_context

    wheels = tmp_path / "wheels-in"
    wheels.mkdir()
    (wheels / "torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl").write_bytes(b"not a real wheel")
    context = tmp_path / "context"
    context.mkdir()
    make_context(context, "torch-gpu", "docker", "debian:bookworm", str(wheels), None)
    assert not any((context / "wheels").iterdir()) and "not used" in capsys.readouterr().err
    make_context(context, "torch", "docker", "debian:bookworm", str(wheels), None)
    assert any((context / "wheels").iterdir())


def test_a_bind_with_a_colon_is_refused(candle, tmp_path):
    done = candle("container", "exec", "img", "--runtime", "podman", "--bind", "a:/etc", "--", "true")
    assert done.code == 2 and "--bind a:/etc" in done.err and "Traceback" not in done.err
    assert not (tmp_path / "a:").exists()

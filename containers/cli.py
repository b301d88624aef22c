"""``candle container recipe|build|exec``: print a recipe, build an image, run a command in one."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import candle_core
from candle_containers.recipe import BASE_IMAGE, FORMATS, IMAGES, PREFIX, recipe_file_name, render
from candle_containers.runtimes import passed_environment
from candle_core import hookimpl
from candle_core.contracts import Command
from candle_core.directories import data_root, output_root
from candle_core.errors import CandleError, did_you_mean, warn_user
from candle_core.plugin_manager import get_plugin_manager

RUNTIME_ORDER = ("podman", "apptainer", "singularity", "charliecloud", "docker")
SOURCE_IGNORED = (".git", ".venv", "venv", "__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache", "build")


def add_container_options(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    recipe = actions.add_parser("recipe", help="print a backend's Dockerfile or Singularity definition")
    recipe.add_argument("--backend", default="torch", help=f"one of {', '.join(IMAGES)}")
    recipe.add_argument("--format", choices=FORMATS, default="docker")
    recipe.add_argument("--base", default=BASE_IMAGE, help=f"base image (default {BASE_IMAGE})")
    build = actions.add_parser("build", help="build a backend's image with a container runtime")
    build.add_argument("--backend", default="torch", help=f"one of {', '.join(IMAGES)}")
    build.add_argument("--runtime", help=f"one of {', '.join(RUNTIME_ORDER)} (default: the first one installed)")
    build.add_argument("--base", default=BASE_IMAGE, help="base image, e.g. a local Debian bookworm import")
    build.add_argument(
        "--wheels", help="folder of wheels to install from first (default: the host pip's find-links, if any)"
    )
    build.add_argument("--tag", help="image name (default candle-BACKEND)")
    build.add_argument("--cert", help="CA bundle pip must trust inside the build (default: the host pip's 'cert')")
    build.add_argument("--context", help="build in this folder and keep it (default: a temporary folder)")
    run = actions.add_parser("exec", help="run a command inside an image: candle container exec IMAGE -- COMMAND")
    run.add_argument("image")
    run.add_argument("--runtime", help=f"one of {', '.join(RUNTIME_ORDER)} (default: the first one installed)")
    run.add_argument("--bind", action="append", default=[], help="another folder to bind at the same path")
    run.add_argument(
        "--gpu",
        action="store_true",
        help="give the container the host's NVIDIA GPUs (apptainer/singularity --nv, podman CDI, docker --gpus all)",
    )


def source_tree() -> Path:
    """candle's source checkout (an editable install); images are built from it."""

    root = Path(candle_core.__file__).resolve().parents[1]
    if not (root / "pyproject.toml").exists():
        raise CandleError(f"candle is not installed from a source checkout ({root}); build images from one")
    return root


def runtime(name: str | None):
    found = {key: factory for key, (factory, _) in get_plugin_manager().components("container").items()}
    if name is not None:
        if name not in found:
            raise CandleError(
                f"unknown container runtime '{name}'{did_you_mean(name, found)}; known: {', '.join(found)}"
            )
        chosen = found[name]()
        if not chosen.available():
            raise CandleError(
                f"container runtime {name} is not installed here ({chosen.executable} not found); "
                f"installed: {', '.join(installed(found)) or 'none'}"
            )
        return chosen
    present = installed(found)
    if not present:
        raise CandleError(f"no container runtime is installed here; candle knows {', '.join(found)}")
    return found[present[0]]()


def installed(found: dict) -> list[str]:
    order = [name for name in RUNTIME_ORDER if name in found] + [name for name in found if name not in RUNTIME_ORDER]
    return [name for name in order if found[name]().available()]


def pip_settings() -> dict[str, str]:
    """The host pip's configuration (``pip config list``): {"global.cert": ..., ...}."""
    import subprocess

    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60)
    settings = {}
    for line in listed.stdout.splitlines():
        key, _, value = line.partition("=")
        settings[key.split(".", 1)[-1] if key.startswith(":env:") else key] = value.strip("'\"")
    return settings


def host_pip_cert() -> str | None:
    """The CA bundle the host's pip trusts (PIP_CERT, or 'cert' in its configuration)."""
    settings = pip_settings()
    return os.environ.get("PIP_CERT") or settings.get("global.cert") or settings.get("cert")


def wheel_folder(package: str) -> Path | None:
    """A folder of pip's find-links that holds a wheel of ``package`` (the CPU torch wheel here)."""
    settings = pip_settings()
    for value in (settings.get("global.find-links", ""), settings.get("find-links", "")):
        for folder in value.split():
            if any(Path(folder).glob(f"{package}-*.whl")):
                return Path(folder)
    return None


def make_context(folder: Path, backend: str, fmt: str, base: str, wheels: str | None, cert: str | None) -> Path:
    """Fill ``folder`` with src/, wheels/, etc/pip.conf and the recipe; return the recipe's path."""
    etc = folder / "etc"
    etc.mkdir(exist_ok=True)
    settings = "[global]\n"
    if cert:
        if not Path(cert).is_file():
            raise CandleError(f"--cert {cert}: no such file")
        shutil.copy2(cert, etc / "ca.crt")
        settings += f"cert = {PREFIX}/etc/ca.crt\n"
    (etc / "pip.conf").write_text(settings)
    shutil.copytree(source_tree(), folder / "src", ignore=shutil.ignore_patterns(*SOURCE_IGNORED), dirs_exist_ok=True)
    (folder / "wheels").mkdir(exist_ok=True)
    if IMAGES[backend].gpu and wheels:
        warn_user(f"{backend}: a GPU image installs PyPI's CUDA builds; the wheels in {wheels} are not used")
        wheels = None
    for name in (wheels or "").split():
        source = Path(name)
        if not source.is_dir():
            raise CandleError(f"--wheels {name}: no such folder")
        for wheel in source.glob("*.whl"):
            shutil.copy2(wheel, folder / "wheels" / wheel.name)
    recipe = folder / recipe_file_name(backend, fmt)
    recipe.write_text(render(backend, fmt, base))
    return recipe


def command_container(args: argparse.Namespace, rest: Sequence[str]) -> int:
    if args.action == "recipe":
        sys.stdout.write(render(args.backend, args.format, args.base))
        return 0
    if args.action == "build":
        return _build(args)
    return _exec(args, rest)


def _build(args: argparse.Namespace) -> int:
    if args.backend not in IMAGES:
        render(args.backend, "docker")  # raises the error with suggestions
    chosen = runtime(args.runtime)
    fmt = "singularity" if chosen.name in ("apptainer", "singularity") else "docker"
    tag = args.tag or f"candle-{args.backend}"
    folder = Path(args.context) if args.context else Path(tempfile.mkdtemp(prefix="candle-context-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        cert = args.cert or host_pip_cert()
        wheels = args.wheels or pip_settings().get("global.find-links") or pip_settings().get("find-links")
        print(f"candle: wheels from {wheels or 'PyPI only'}; CA bundle {cert or 'the image default'}", file=sys.stderr)
        recipe = make_context(folder, args.backend, fmt, args.base, wheels, cert)
        print(f"candle: building {tag} with {chosen.name} from {recipe}", file=sys.stderr)
        chosen.build(folder, recipe, tag)
    finally:
        if not args.context:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"candle: built {tag}")
    return 0


def _exec(args: argparse.Namespace, rest: Sequence[str]) -> int:
    command = list(rest[1:] if rest and rest[0] == "--" else rest)
    for bind in args.bind:
        if ":" in bind:
            raise CandleError(
                f"--bind {bind}: give a host folder, bound at the same path inside; a 'SOURCE:TARGET' pair "
                "is not supported (it would make a folder named with the ':')"
            )
    if not command:
        raise CandleError("name the command to run: candle container exec IMAGE -- candle run nt3 ...")
    chosen = runtime(args.runtime)
    data, output = data_root(), output_root()
    binds = []
    for folder in (data, output, Path.cwd(), *map(Path, args.bind)):
        folder = folder.absolute()
        folder.mkdir(parents=True, exist_ok=True)
        if folder not in binds:
            binds.append(folder)

    env = passed_environment(os.environ) | {"CANDLE_DATA_DIR": str(data), "CANDLE_OUTPUT_DIR": str(output)}
    chosen.prepare_exec(env)
    if args.gpu and chosen.gpu_note():
        warn_user(chosen.gpu_note())
    line = chosen.exec_command(chosen.runnable(args.image), command, binds, env, Path.cwd(), gpu=args.gpu)
    process_env = chosen.process_environment(env)
    os.execvpe(line[0], line, process_env)  # the container's exit code is ours


class ContainerCommand(Command):
    """``candle container``: print a recipe, build an image, run a command inside one."""

    help = "container images: print a recipe, build an image, run a command inside one"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        add_container_options(parser)

    def run(self, args: argparse.Namespace, rest: Sequence[str]) -> int:
        return command_container(args, rest)


@hookimpl
def candle_commands():
    return {"container": ContainerCommand}

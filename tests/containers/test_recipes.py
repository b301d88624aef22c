"""The checked-in recipes are the generator's output, and they parse."""

from pathlib import Path

import pytest

from candle_containers.recipe import FORMATS, IMAGES, recipe_file_name, render

pytestmark = pytest.mark.needs("hpccm")  # the recipes are rendered with hpccm

RECIPES = Path(__file__).parents[2] / "recipes"
CASES = [(backend, fmt) for backend in IMAGES for fmt in FORMATS]


@pytest.mark.parametrize(("backend", "fmt"), CASES)
def test_checked_in_recipe_is_the_generated_one(backend, fmt):
    checked_in = (RECIPES / recipe_file_name(backend, fmt)).read_text()
    assert checked_in == render(backend, fmt), "regenerate: python -m candle_containers.recipe recipes/"


@pytest.mark.parametrize(("backend", "fmt"), CASES)
@pytest.mark.needs("spython")
def test_recipes_parse_with_spython(backend, fmt):
    from spython.main.parse.parsers import DockerParser, SingularityParser

    parser = DockerParser if fmt == "docker" else SingularityParser
    recipe = next(iter(parser(str(RECIPES / recipe_file_name(backend, fmt))).parse().values()))
    assert recipe.fromHeader == "debian:bookworm"
    assert "PATH=/opt/candle/venv/bin:$PATH" in recipe.environ
    files = {tuple(entry.split()) if isinstance(entry, str) else tuple(entry) for entry in recipe.files}
    assert {("src", "/opt/candle/src"), ("wheels", "/opt/candle/wheels"), ("etc", "/opt/candle/etc")} <= files
    script = "\n".join(recipe.install)
    extras = IMAGES[backend].extras
    assert f"/opt/candle/src[{extras}]" in script
    assert ("install_horovod.sh" in script) == (backend == "torch-horovod")


def test_the_base_image_is_a_choice():
    assert render("keras", "docker", base="localhost/candle-base:bookworm").count("FROM localhost/candle-base") == 1
    assert "From: localhost/candle-base:bookworm" in render(
        "keras", "singularity", base="localhost/candle-base:bookworm"
    )


@pytest.mark.parametrize(("backend", "fmt"), [(b, f) for b in ("torch-gpu", "keras-gpu") for f in FORMATS])
def test_gpu_images_take_cuda_builds_and_expose_the_gpus(backend, fmt):
    text = render(backend, fmt)
    assert "--find-links" not in text  # never the host's CPU wheels: PyPI's CUDA builds
    assert "NVIDIA_VISIBLE_DEVICES" in text and "compute,utility" in text and "cuda" in text
    assert f"/opt/candle/src[{IMAGES[backend].extras}]" in text
    assert IMAGES["keras-gpu"].extras.startswith("keras-gpu")  # tensorflow[and-cuda]


def test_cpu_images_keep_the_host_wheels():
    assert "--find-links /opt/candle/wheels" in render("torch", "docker")

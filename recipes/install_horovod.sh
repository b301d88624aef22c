#!/usr/bin/env bash
# Build and install Horovod 0.28.1 (PyTorch + MPI + Gloo, no TensorFlow) into the active Python.
#
# Horovod's last release does not compile against torch 2.13 as published: its C++ standard
# has to go from 14 (CMakeLists.txt, horovod/torch/CMakeLists.txt) and c++11
# (third_party/gloo/CMakeLists.txt) to 17 — all three, or the link fails. It is built without
# build isolation (so it sees the installed torch) with the system cmake (a pip cmake 4.x refuses
# gloo's old cmake_minimum_required). The wheel is cached per torch version, so a second install
# takes seconds: $CANDLE_WHEEL_CACHE (default ~/.cache/candle/wheels).
#
# Needs: torch installed (pip install -e '.[torch]'), an MPI with mpicc on PATH (pip install
# mpich, or the site's MPI), cmake >= 3.13 and a C++17 compiler. About 3 minutes on 2 cores.
set -euo pipefail

version=0.28.1
python=${PYTHON:-python}
torch_version=$("$python" -c 'import torch; print(torch.__version__)')
cache=${CANDLE_WHEEL_CACHE:-$HOME/.cache/candle/wheels}/torch-$torch_version
mkdir -p "$cache"

if ! ls "$cache"/horovod-$version-*.whl >/dev/null 2>&1; then
    command -v mpicc >/dev/null || { echo "install_horovod.sh: no mpicc on PATH (pip install mpich)" >&2; exit 1; }
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "$python" -m pip download --quiet --no-deps --no-binary :all: "horovod==$version" -d "$work"
    tar -xzf "$work/horovod-$version.tar.gz" -C "$work"
    source_dir=$work/horovod-$version
    sed -i 's/set(CMAKE_CXX_STANDARD 14)/set(CMAKE_CXX_STANDARD 17)/' \
        "$source_dir/CMakeLists.txt" "$source_dir/horovod/torch/CMakeLists.txt"
    sed -i 's/-std=c++11 -fPIC/-std=c++17 -fPIC/' "$source_dir/third_party/gloo/CMakeLists.txt"
    for file in CMakeLists.txt horovod/torch/CMakeLists.txt third_party/gloo/CMakeLists.txt; do
        grep -q '17' "$source_dir/$file" || { echo "install_horovod.sh: patch did not apply to $file" >&2; exit 1; }
    done
    command -v cmake >/dev/null || "$python" -m pip install --quiet "cmake<4"
    echo "install_horovod.sh: building horovod $version for torch $torch_version (about 3 minutes)"
    env HOROVOD_WITH_PYTORCH=1 HOROVOD_WITHOUT_TENSORFLOW=1 HOROVOD_WITHOUT_MXNET=1 \
        HOROVOD_WITH_MPI=1 HOROVOD_WITH_GLOO=1 MAKEFLAGS=${MAKEFLAGS:--j2} \
        "$python" -m pip wheel --no-build-isolation --no-deps --wheel-dir "$cache" "$source_dir"
fi
"$python" -m pip install --quiet --find-links "$cache" "horovod==$version"
"$python" -c "import horovod, horovod.torch as hvd; print('horovod', horovod.__version__, 'with MPI' if hvd.mpi_built() else '', 'with Gloo' if hvd.gloo_built() else '')"

#!/usr/bin/env bash
# Make the local base image candle's recipes start from, where no registry is reachable:
# a minimal Debian bookworm (Python 3.11, as the CPU torch wheel wants) from debootstrap,
# imported into podman as localhost/candle-base:bookworm and/or into charliecloud's storage.
#
#   bash recipes/make_base.sh [podman|charliecloud|all]     (needs root and debootstrap; ~80 s)
#
# The rootfs's /dev is left out of the import (importing it copied /dev/full until the disk
# filled). Then: candle container build --base localhost/candle-base:bookworm ...
set -euo pipefail

target=${1:-podman}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
name=candle-base:bookworm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
if [ "$target" = podman ] || [ "$target" = all ]; then
    tar -C "$work/rootfs" --exclude=./dev -c . | podman import - "localhost/$name" >/dev/null
    echo "make_base.sh: podman image localhost/$name"
fi
if [ "$target" = charliecloud ] || [ "$target" = all ]; then
    export CH_IMAGE_STORAGE=${CH_IMAGE_STORAGE:-$HOME/.candle/charliecloud} USER=${USER:-root}
    tar -C "$work/rootfs" --exclude=./dev -czf "$work/rootfs.tar.gz" .
    /usr/bin/python3 "$(command -v ch-image)" import "$work/rootfs.tar.gz" "$name"
    echo "make_base.sh: charliecloud image $name in $CH_IMAGE_STORAGE"
fi

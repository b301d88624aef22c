#!/usr/bin/env bash
# Install Debian's Slurm and MUNGE for the real-cluster tests (tests/cluster): the tests start a
# private 3-node cluster (3 slurmd daemons on this machine) themselves and tear it down.
# Needs root and apt-get; anywhere else it says why and exits 0, and those tests skip.
set -uo pipefail
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "install_slurm.sh: not root or no apt-get: Slurm not installed, the tests/cluster tests will skip" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null 2>&1; } \
    || echo "install_slurm.sh: apt-get could not install slurm-wlm munge; the tests/cluster tests will skip" >&2
exit 0

#!/usr/bin/env bash
# Install the Debian packages some tests drive for real: Slurm and MUNGE (tests/cluster start a
# private 3-node cluster themselves and tear it down) and Chromium (tests/core/test_report.py opens
# `candle report`'s page headless). One apt-get call. Needs root and apt-get; anywhere else it says
# why and exits 0, and those tests skip.
set -uo pipefail
PACKAGES=(slurm-wlm munge chromium)
missing=()
command -v slurmctld >/dev/null && command -v slurmd >/dev/null || missing+=(slurm-wlm)
command -v munged >/dev/null || missing+=(munge)
command -v chromium >/dev/null || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "install_system_packages.sh: not root or no apt-get: ${missing[*]} not installed; their tests will skip" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >/dev/null 2>&1; } \
    || echo "install_system_packages.sh: apt-get could not install ${PACKAGES[*]}; their tests will skip" >&2
exit 0

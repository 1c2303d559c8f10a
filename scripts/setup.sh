#!/usr/bin/env bash
# Installs what the project needs and is missing; does nothing when all is there (idempotent).
# System packages: OpenBLAS (CBLAS + LAPACK), LAPACKE, GSL, pkg-config (Debian names), and
# fortunes: natural English text (quotations), the offline corpus for real-model key statistics;
# gnuplot-nox: the figures of `verify report`; zlib1g-dev: deflated members of .npz statistics files;
# libopenmpi-dev + openmpi-bin: `mpirun -np N verify stats` (the reduction of the key sums).
set -euo pipefail

need=(libopenblas-dev liblapacke-dev libgsl-dev zlib1g-dev libopenmpi-dev openmpi-bin pkg-config fortunes gnuplot-nox)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: no Swift toolchain on PATH (Swift 6.1 or newer is required)" >&2
  exit 1
fi
# Real model weights into a cache outside the repository (see the script).
"$(dirname "$0")/fetch-models.sh"

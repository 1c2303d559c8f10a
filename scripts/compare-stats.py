#!/usr/bin/env python3
"""Compares two layer_stats files (mom2.mom2 sums of the same keys) entry by entry.

  compare-stats.py A.npz B.npz --exact      the sums must be equal bit for bit
  compare-stats.py A.npz B.npz --orders     two summation orders of the same P products:
      |A_ij - B_ij| <= 2 g (1 + g) sqrt(A_ii A_jj), g = P u / (1 - P u), u = 2^-53
      (Higham, Accuracy and Stability, (3.4)-(3.5) and section 4.2), for float64 files;
      for float32 files one more rounding of each side: + 2 * 2^-24 |A_ij| (ulp of the write).
Prints the worst ratio |A - B| / bound and exits 1 when a bound is broken.
"""
import sys
import numpy as np

a, b, mode = sys.argv[1], sys.argv[2], sys.argv[3]
A, B = np.load(a), np.load(b)
for k in ("mom2.count", "sample_size"):
    if int(A[k]) != int(B[k]):
        sys.exit(f"{k} differs: {int(A[k])} vs {int(B[k])}")
SA, SB = A["mom2.mom2"], B["mom2.mom2"]
if SA.dtype != SB.dtype or SA.shape != SB.shape:
    sys.exit(f"dtype/shape differ: {SA.dtype}{SA.shape} vs {SB.dtype}{SB.shape}")
if mode == "--exact":
    same = SA.tobytes() == SB.tobytes()
    print(f"{'equal' if same else 'DIFFERENT'} bit for bit ({SA.dtype}, {SA.shape[0]}x{SA.shape[1]})")
    sys.exit(0 if same else 1)
P = int(A["mom2.count"])
u = 2.0**-53
g = P * u / (1 - P * u)
S = SA.astype(np.float64)
d = np.abs(np.diag(S))
bound = 2 * g * (1 + g) * np.sqrt(np.outer(d, d))
if SA.dtype == np.float32:
    bound = bound + 2 * 2.0**-24 * np.abs(S)
diff = np.abs(S - SB.astype(np.float64))
ratio = float(np.max(diff / np.where(bound > 0, bound, np.inf)))
differing = int(np.count_nonzero(diff))
print(f"P = {P}: {differing} of {diff.size} entries differ; max |A-B| = {diff.max():.3e}; "
      f"worst |A-B| / bound = {ratio:.3e}")
sys.exit(0 if np.all(diff <= bound) else 1)

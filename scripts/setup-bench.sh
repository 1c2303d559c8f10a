#!/usr/bin/env bash
# The benchmark compares against numpy/scipy: install them for the current user if missing.
set -euo pipefail
"$(dirname "$0")/setup.sh"
if ! python3 -c "import numpy, scipy" 2>/dev/null; then
  echo "setup: installing numpy and scipy with pip" >&2
  python3 -m pip install --quiet numpy scipy
fi

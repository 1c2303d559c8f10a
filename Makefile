# The README's two commands are `make run` and `make test`; both install what is missing.
SWIFT ?= swift
RELEASE_BIN = .build/release/verify

.PHONY: setup run test lint format bench bench-model bench-blocks bench-stats smoke fuzz-cli

setup:
	@scripts/setup.sh

# The main job: rank and conditioning of C0 for synthetic Llama-2-7B keys at d_m = 1, full width.
run: setup
	$(SWIFT) build -c release --product verify
	$(RELEASE_BIN) rank --model llama2 --dm 1

lint:
	$(SWIFT) format lint --strict --recursive --parallel Package.swift Sources Tests

format:
	$(SWIFT) format --in-place --recursive --parallel Package.swift Sources Tests

smoke: setup
	$(SWIFT) build --product verify
	scripts/cli-smoke.sh .build/debug/verify

# The CLI fuzz test (issue 14): hostile values for every numeric option of every subcommand;
# every run must end with a documented status (0-3) and a message, never a signal.
FUZZ_BUDGET ?= 60
fuzz-cli: setup
	$(SWIFT) build --product verify
	python3 scripts/cli-fuzz.py .build/debug/verify --strict --budget $(FUZZ_BUDGET)

# The suites run in parallel threads of one process. OpenBLAS's threaded path (0.3.21,
# pthreads) with several callers at once gave results that differ between runs (a capture
# test saw every logit change, BFGS stopped without progress, a first-order bound was missed:
# three failures in about ten parallel runs, none in 40 runs of those tests alone); with one
# BLAS thread per caller the suite is faster too (72-81 s against 85-105 s here). `verify`
# itself does not call threaded BLAS from two threads at once.
test: setup lint
	$(SWIFT) build --build-tests
	OPENBLAS_NUM_THREADS=1 $(SWIFT) test --skip-build
	$(MAKE) --no-print-directory smoke
	$(MAKE) --no-print-directory fuzz-cli

# Benchmarks run with the machine's OpenBLAS pins unset in that command alone (the environment
# notes' advice for benchmarking against current numpy / PyTorch; tests and CI keep them).
# `make bench BENCH_ENV=` keeps them; both commands print the kernel family each stack ran.
BENCH_ENV ?= env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
bench:
	@scripts/setup-bench.sh
	$(SWIFT) build -c release --product verify
	$(BENCH_ENV) python3 scripts/bench_linalg.py --verify $(RELEASE_BIN) $(BENCH_ARGS)

# Forward pass of SmolLM2 next to PyTorch + transformers (venv outside the repo, see the script).
bench-model:
	$(SWIFT) build -c release --product verify
	$(BENCH_ENV) $$(scripts/setup-bench-model.sh) scripts/bench_model.py --verify $(RELEASE_BIN) $(BENCH_ARGS)

# Per-block forward at GPT2-XL / GPT-J-6B / Llama-2-7B widths next to PyTorch (generated 2-block checkpoints).
bench-blocks:
	$(SWIFT) build -c release --product verify
	$(BENCH_ENV) $$(scripts/setup-bench-model.sh) scripts/bench_blocks.py --verify $(RELEASE_BIN) $(BENCH_ARGS)

# verify stats (one process and mpirun -np 2) next to layer_stats' loop under PyTorch, same windows.
bench-stats:
	$(SWIFT) build -c release --product verify
	$(BENCH_ENV) $$(scripts/setup-bench-model.sh) scripts/bench_stats.py --verify $(RELEASE_BIN) $(BENCH_ARGS)

# The README's two commands are `make run` and `make test`; both install what is missing.
SWIFT ?= swift
RELEASE_BIN = .build/release/verify

.PHONY: setup run test lint format bench smoke

setup:
	@scripts/setup.sh

# The main job. Until the editing core exists (issue 3) it is the linalg demonstration.
run: setup
	$(SWIFT) build -c release --product verify
	$(RELEASE_BIN) linalg

lint:
	$(SWIFT) format lint --strict --recursive --parallel Package.swift Sources Tests

format:
	$(SWIFT) format --in-place --recursive --parallel Package.swift Sources Tests

smoke: setup
	$(SWIFT) build --product verify
	scripts/cli-smoke.sh .build/debug/verify

test: setup lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) --no-print-directory smoke

bench:
	@scripts/setup-bench.sh
	$(SWIFT) build -c release --product verify
	python3 scripts/bench_linalg.py --verify $(RELEASE_BIN) $(BENCH_ARGS)

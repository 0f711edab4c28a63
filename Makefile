# The two commands: `make run` (install what is missing, build the prompts, start
# the service with demo data) and `make test` (install what is missing, lint,
# type-check, test). `make bench` runs every benchmark (a few minutes) into
# bench/results.json; `make bench-soak` adds the 5-minute soak's rows to it.
.PHONY: setup setup-test run test lint bench bench-soak

setup:
	./scripts/setup.sh

setup-test:
	./scripts/setup.sh --with-browser

run: setup
	.venv/bin/ivr prompts build
	.venv/bin/ivr serve --demo

lint: setup-test
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

test: lint
	.venv/bin/pytest

bench: setup
	.venv/bin/python -m bench.run

bench-soak: setup
	.venv/bin/python -m bench.soak

# The two supported entry points are `make demo` and `make test`; both build ./.venv first.
# `make bench` runs the benchmarks (never part of `make test`; BENCH_ARGS passes options).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser tests drive Debian's Chromium (never a downloaded one); `make test` installs it.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bench lint typecheck check clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "b2bsync needs Python 3.11+; $(PYTHON) is $$($(PYTHON) -V 2>&1). Run: make PYTHON=python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# `make demo PORT=9081 DASHBOARD_PORT=9000 DEMO_ARGS="--rate 5"` when 8081 or 8000 is taken.
PORT ?= 8081
DASHBOARD_PORT ?= 8000
DEMO_ARGS ?=

demo: $(STAMP)
	$(BIN)/b2bsync demo --port $(PORT) --dashboard-port $(DASHBOARD_PORT) $(DEMO_ARGS)

$(CHROMIUM):
	$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium

# One xdist worker more than cores: many tests wait on a sandbox, a server or a timer, and the
# extra worker fills those waits (on 2 cores: 3 workers, 202 s instead of 348 s with 2).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

test: $(STAMP) $(CHROMIUM)
	$(BIN)/pytest -q -n $(TEST_WORKERS) --durations=15

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS) 2> benchmarks/bench.log

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

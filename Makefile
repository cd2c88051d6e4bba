# The two Quick start commands (README.md): `make run` and `make test`. Both are idempotent.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HUB_DATA_DIR ?= $(CURDIR)/data
export HUB_DATA_DIR
export DAGSTER_HOME ?= $(HUB_DATA_DIR)/.dagster

.PHONY: install run test test-fast lint city system-deps bench clean-data dev

## install: a local virtual environment with the hub and its test tools; the dbt manifest prepared.
install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -e ".[test]"
	$(VENV)/bin/hub prepare
	touch $@

## city: copy the bundled synthetic city's drops into the data dir's landing zone (never overwrites).
city:
	mkdir -p $(HUB_DATA_DIR)
	cp -rn fixtures/city/landing $(HUB_DATA_DIR)/
	cp -rn fixtures/city/truth $(HUB_DATA_DIR)/

## run: the main job — the whole hub on the bundled city, on the embedded default stores.
run: install city
	$(VENV)/bin/hub run

## system-deps: Debian packages the tests drive for real (headless Chromium, PostgreSQL).
system-deps:
	bash scripts/ci-system-deps.sh

## test: install, then the linters and the whole test suite.
test: install system-deps lint
	$(VENV)/bin/pytest -n 2 --dist loadgroup

## lint: ruff on the Python, sqlfluff (dbt templater, DuckDB dialect) on the dbt models and tests.
# dbt renders the SQL against a scratch warehouse, never the data directory's.
lint: install
	$(VENV)/bin/ruff check .
	scratch=$$(mktemp -d) && HUB_DATA_DIR=$$scratch $(VENV)/bin/sqlfluff lint dbt_project/models dbt_project/tests \
		--processes 2 --disable-progress-bar; status=$$?; rm -rf $$scratch; exit $$status

## dev: the Dagster UI on the same data dir.
dev: install city
	$(PY) -c "from hub_assets.runtime.instance import ensure_dagster_home; ensure_dagster_home('$(HUB_DATA_DIR)')"
	$(VENV)/bin/dg dev

bench: install
	$(PY) benchmarks/bench_synth.py
	$(PY) benchmarks/bench_linkage.py
	$(PY) benchmarks/bench_end_to_end.py

clean-data:
	rm -rf $(HUB_DATA_DIR)

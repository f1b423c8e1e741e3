# The two commands a newcomer needs: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgresql://postgres@127.0.0.1:5432
HOST ?= 127.0.0.1
PORT ?= 8000
# `make serve` is for trying the product on one's machine: a throw-away SECRET_KEY is fine.
export DEVELOPMENT ?= 1

.PHONY: install serve test test-sqlite test-postgres bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/conseils demo
	$(BIN)/conseils serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	scripts/ensure-debian-packages.sh chromium=chromium
	scripts/ensure-postgres.sh
	$(MAKE) --no-print-directory test-sqlite test-postgres

test-sqlite: $(STAMP)
	@echo "== test suite on SQLite =="
	env -u DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider

test-postgres: $(STAMP)
	@echo "== test suite on PostgreSQL =="
	DATABASE_URL=$(PG_URL)/conseils_test $(BIN)/pytest -q -p no:cacheprovider

bench: $(STAMP)
	scripts/ensure-debian-packages.sh wrk=wrk
	scripts/ensure-postgres.sh
	$(BIN)/python -m bench.run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

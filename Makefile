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
# ical.js (Thunderbird's iCalendar parser) for the feed tests, pinned by its lock file.
ICALJS := tests/js/node_modules/.package-lock.json

.PHONY: install serve test test-sqlite test-postgres bench lint mutate clean facilitator demo-facilitator

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# npm writes node_modules/.package-lock.json on install: reinstall when the lock is newer.
$(ICALJS): tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund
	touch $@

serve: $(STAMP)
	$(BIN)/conseils demo
	$(BIN)/conseils serve --host $(HOST) --port $(PORT)

# A facilitator account: `make facilitator EMAIL=a@b.fr NAME="Prénom Nom"` asks the password;
# ADMIN=1 makes an admin, COUNCILS="ales-tamaris ales-agglo" the councils they run.
facilitator: $(STAMP)
	@test -n "$(EMAIL)" -a -n "$(NAME)" || { echo 'usage: make facilitator EMAIL=a@b.fr NAME="Prénom Nom" [ADMIN=1] [COUNCILS="slug …"]' >&2; exit 2; }
	$(BIN)/conseils facilitator create --email "$(EMAIL)" --name "$(NAME)" $(if $(ADMIN),--admin) $(foreach c,$(COUNCILS),--council $(c))

# A sign-in for the `make serve` demo: an admin, animation@demo.local, and a password printed once.
demo-facilitator: $(STAMP)
	$(BIN)/conseils facilitator demo

# test-sqlite and test-postgres install ical.js; the sub-make runs once node and npm are here.
# Tests marked engine_independent (the browser, ...) run once: the SQLite run leaves them out.
# The two engines' runs go side by side (-j2: each has its own database, data directory and
# Redis prefix, as two checkouts running at once do), each one's output printed whole when it
# ends; `make test-sqlite` or `make test-postgres` runs one alone.
test: $(STAMP)
	scripts/ensure-debian-packages.sh chromium=chromium node=nodejs npm=npm jq=jq curl=curl nginx=nginx
	scripts/ensure-postgres.sh
	scripts/ensure-redis.sh
	@echo "== the SQLite and PostgreSQL suites run side by side; each prints its report when it ends =="
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres \
		SQLITE_MARKS="not engine_independent"

test-sqlite: $(STAMP) $(ICALJS)
	@echo "== test suite on SQLite =="
	env -u DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider $(if $(SQLITE_MARKS),-m "$(SQLITE_MARKS)")

# PG_URL names no database: the suite creates its own, conseils_test_<pid>_<random>, and drops
# it at the end, so two checkouts can run their suites at once on one PostgreSQL.
test-postgres: $(STAMP) $(ICALJS)
	@echo "== test suite on PostgreSQL =="
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -p no:cacheprovider

bench: $(STAMP)
	scripts/ensure-debian-packages.sh wrk=wrk nginx=nginx
	scripts/ensure-redis.sh
	scripts/ensure-postgres.sh
	$(BIN)/python -m bench.run

# Mutation testing, outside `make test`: mutmut changes the functions that hold the rules one
# small change at a time (taking a seat and the rank on the waiting list, reminders and the
# one-year purge, the relay's loop and batch and its "sent" mark, the CSV's neutralised cells)
# and runs the fast tests covering each change (pyproject.toml [tool.mutmut]) on SQLite, in
# about 20 minutes on two cores. A mutant no test notices is printed: see README "Mutation
# testing". MUTATE names other functions (mutmut's names, * allowed); MUTATE_ALL=1 adds
# MUTATE_MORE: promotion from the waiting list and SEQUENCE (their tests are the long ones).
MUTATE ?= \
	'meetings.services.registrations.x__take_seat__*' \
	'meetings.services.registrations.x__position__*' \
	'meetings.services.registrations.x_due_for_reminder__*' \
	'meetings.services.registrations.x_purge_expired__*' \
	'notifications.relay.xǁRelayǁ_deliver__*' \
	'notifications.relay.xǁRelayǁrun__*' \
	'notifications.ledger.xǁLedgerǁmark_sent__*' \
	'meetings.controllers.registrations.x__cell__*'
MUTATE_MORE := \
	'meetings.services.registrations.x_promote__*' \
	'meetings.services.meetings.x__apply__*'

mutate: $(STAMP)
	rm -rf mutants
	env -u DATABASE_URL $(BIN)/mutmut run --max-children 2 $(MUTATE) $(if $(MUTATE_ALL),$(MUTATE_MORE))
	$(BIN)/python scripts/mutation_report.py

# ruff, then the direction of imports: no cycle between files or apps, the core imports no app.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/check_imports.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache tests/js/node_modules mutants

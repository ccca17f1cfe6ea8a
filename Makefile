# ALC Portal. `make run` starts the portal with demo data; `make test` runs every check.
# Both need only Python 3.11: they make a virtualenv in .venv and, unless DATABASE_URL and
# REDIS_URL are set, start an embedded PostgreSQL and Redis under var/.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
EMBEDDED := $(PY) -m alc_portal.embedded --
INSTALLED := $(VENV)/.installed

.PHONY: run test lint pytest install lock browser-deps council-data clean bench bench-search

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "ALC Portal needs Python 3.11 or newer: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(INSTALLED): requirements.txt requirements-dev.txt constraints.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(INSTALLED)

# After changing requirements*.txt: install them without the old pins, then pin everything.
lock: | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	{ sed -n '1,2p' constraints.txt; $(PY) -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt

install: $(INSTALLED)

# PORT=8000 and MAIL_PORT=1025 unless given: make run PORT=8080 MAIL_PORT=2525
run: export DEBUG ?= 1
run: $(INSTALLED)
	$(EMBEDDED) $(PY) -m alc_portal.devstack $(if $(PORT),--port $(PORT)) $(if $(MAIL_PORT),--mail-port $(MAIL_PORT))

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Browser tests drive Debian's Chromium. Installed here when missing and we may (root + apt).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# Tests use their own embedded services (var/test), so they never touch `make run`'s data.
pytest: export DEBUG ?= 1
pytest: export ALC_VAR_DIR ?= $(CURDIR)/var/test
pytest: $(INSTALLED) browser-deps
	$(EMBEDDED) sh -c '$(PY) manage.py makemigrations --check --dry-run && $(PY) -m pytest $(PYTEST_ARGS)'

test: lint pytest

# The mailing benchmark (not a test; see docs/benchmarks.md): its own services under var/bench.
# Options: make bench BENCH_ARGS="--count 10000 --sink postfix --profile var/bench/profile"
bench: export ALC_VAR_DIR ?= $(CURDIR)/var/bench
bench: $(INSTALLED)
	$(EMBEDDED) $(PY) bench/mailing.py $(BENCH_ARGS)

# The search benchmark (see docs/benchmarks.md): 20,000 councillors, 1,000 queries, its own
# database on the services under var/bench. Options: make bench-search BENCH_ARGS="--count 5000"
bench-search: export ALC_VAR_DIR ?= $(CURDIR)/var/bench
bench-search: $(INSTALLED)
	$(EMBEDDED) $(PY) bench/search.py $(BENCH_ARGS)

# The pages benchmark (docs/benchmarks.md): each role's main pages under gunicorn with production
# settings, measured with wrk (Debian: apt-get install wrk) against Django's hello world.
# Options: make bench-pages BENCH_PAGES_ARGS="--councillors 2400 --seconds 5 --profile DIR"
.PHONY: bench-pages
bench-pages: export ALC_VAR_DIR ?= $(CURDIR)/var/bench
bench-pages: $(INSTALLED)
	$(EMBEDDED) $(PY) bench/pages.py $(BENCH_PAGES_ARGS)

# Rebuild regions/data/councils.csv from ../shared/data, or as COUNCIL_DATA_ARGS say, e.g.
# make council-data COUNCIL_DATA_ARGS="--source DIR --output FILE". It reads and writes files
# only (manage.py gives it development settings).
council-data: $(INSTALLED)
	$(PY) manage.py build_council_data $(COUNCIL_DATA_ARGS)

clean:
	rm -rf var/test

# The production rehearsal (not part of `make test`; see docs/operations.md, "Production"): the
# files in deploy/ run with Debian's PostgreSQL, Redis, nginx and smtp-sink (installed with apt
# when missing, as root) in a temporary folder, then checked end to end. Takes several minutes.
# Keep its files (logs, database, backups) afterwards: make prod-check PROD_CHECK_ARGS=--keep
.PHONY: prod-check
prod-check: $(INSTALLED)
	$(PY) -m deploy.rehearsal $(PROD_CHECK_ARGS)

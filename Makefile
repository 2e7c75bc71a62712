# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export FLASK_APP := wsgi

.PHONY: run test lint types install translations chromium fonts bench-stats bench-load bench bench-profile extract-messages update-messages clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed" or 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Compiled catalogues (.mo) are build output, made from the .po files in the repository.
translations: install
	$(BIN)/pybabel compile -d eventsvc/translations

# The service with demo data on SQLite (instance/eventsvc.sqlite), at http://127.0.0.1:5000
run: translations
	$(BIN)/flask db upgrade
	$(BIN)/flask demo --if-empty
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# The whole suite: on SQLite, and also on PostgreSQL when EVENTSVC_TEST_DATABASE_URL is set;
# one pytest-xdist worker per core (TEST_WORKERS=0 runs it in one process). Work stealing:
# a worker that runs out takes tests from the other, so the long browser files do not end
# the run on one core (2 cores, PostgreSQL: 10 min instead of 14 with --dist loadfile).
TEST_WORKERS ?= auto
test: translations chromium fonts
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# Lint, format check and types (ruff and mypy; settings in pyproject.toml). `ruff format .`
# fixes the format. CI runs this before the tests (.ci/run).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Types alone (mypy): services/ and models/ strictly, the rest leniently.
types: install
	$(BIN)/mypy

# Browser tests need Debian's Chromium; as root we install it, otherwise we say how.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update && apt-get install -y chromium; \
	  else echo "Browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

# The Ministry's totals on a national data set (PostgreSQL): see docs/PERFORMANCE.md.
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/eventsvc_bench
bench-stats: install
	$(BIN)/python bench/national_data.py $(BENCH_DATABASE_URL)
	$(BIN)/python bench/stats_bench.py $(BENCH_DATABASE_URL) 5

# Load: gunicorn (2 × cores sync workers) on a fresh PostgreSQL database, driven over
# 127.0.0.1: a bare INSERT (baseline), the registration rush, the door. See docs/PERFORMANCE.md.
# `make bench` adds the Ministry's totals (builds the national data set first if missing).
# Never part of `make test`. BENCH_ARGS passes options, e.g. BENCH_ARGS="--rush-requests 1000".
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_LOAD_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/eventsvc_load
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench-load: translations $(BENCH_STAMP)
	$(BIN)/python bench/load_bench.py --database-url $(BENCH_LOAD_DATABASE_URL) $(BENCH_ARGS)

bench: translations $(BENCH_STAMP)
	$(BIN)/python bench/load_bench.py --database-url $(BENCH_LOAD_DATABASE_URL) --stats-url $(BENCH_DATABASE_URL) $(BENCH_ARGS)

# The same run with pyinstrument and SQL counts in every worker, and py-spy on the workers.
bench-profile: translations $(BENCH_STAMP)
	$(BIN)/python bench/load_bench.py --database-url $(BENCH_LOAD_DATABASE_URL) --profile --cpu-profile $(BENCH_ARGS)

# After changing user-facing strings: extract them and merge into every catalogue.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k pgettext:1c,2 -k ngettext:1,2 -k N_ \
		--no-location --sort-output --project eventsvc -o eventsvc/translations/messages.pot .
update-messages: extract-messages
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i eventsvc/translations/messages.pot -d eventsvc/translations

clean:
	rm -rf $(VENV) instance .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

# Everruns — the two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell scripts/find-python.sh)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

# Development defaults for `make run` only; production reads its own environment.
RUN_ENV := DEBUG=$${DEBUG:-1} AUTH_MODE=$${AUTH_MODE:-none} PORT=$(PORT)

.PHONY: help venv install lock lock-check run test lint openapi migrate seed clean browser

help:
	@echo "make run    install, migrate, seed, serve http://127.0.0.1:$(PORT) with web + worker"
	@echo "make test   install and run the whole suite (pytest, ruff check+format, import-linter, mypy, migrations check, OpenAPI sync)"
	@echo "make openapi  regenerate docs/openapi.json"
	@echo "make lock   after editing dependencies in pyproject.toml: update uv.lock and requirements*.txt"

$(PY):
	@test -n "$(PYTHON)" || { scripts/find-python.sh; exit 1; }
	@echo "==> creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	@echo "==> installing dependencies into $(VENV) (the first time takes a minute or two)"
	$(PY) scripts/requirements.py dev > $(VENV)/requirements.txt
	set -o pipefail; $(PY) -m pip install --progress-bar off -r $(VENV)/requirements.txt \
	  | { grep -E --line-buffered '^(Collecting|Successfully installed)' || true; }
	touch $(STAMP)

venv install: $(STAMP)

# After changing dependencies in pyproject.toml: re-resolve uv.lock and export the hashed requirements files
# (requirements.txt: runtime, the Dockerfile; requirements-dev.txt: + dev tools, `make run`/`make test`).
# `make lock UPGRADE=1` also moves every pin to the newest allowed version.
lock: $(STAMP)
	$(VENV)/bin/uv lock --python 3.12 $(if $(UPGRADE),--upgrade)
	$(VENV)/bin/uv export --locked --no-dev --no-emit-project --format requirements-txt --no-header --quiet -o requirements.txt
	$(VENV)/bin/uv export --locked --no-emit-project --format requirements-txt --no-header --quiet -o requirements-dev.txt

migrate: $(STAMP)
	$(RUN_ENV) $(PY) manage.py migrate --noinput

seed: $(STAMP)
	$(RUN_ENV) $(PY) manage.py seed

run: $(STAMP)
	@mkdir -p var
	@echo "==> applying database migrations"
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	@echo "==> seeding (simulated model, demo agent, admin user from DJANGO_SUPERUSER_*)"
	$(RUN_ENV) $(PY) manage.py seed
	@echo "==> collecting static files"
	$(RUN_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "==> starting web and worker"
	@$(RUN_ENV) exec scripts/run.sh

# uv.lock matches pyproject.toml and the requirements files match uv.lock (no network needed).
lock-check: $(STAMP)
	$(VENV)/bin/uv lock --check --offline --python 3.12 --quiet
	diff -q requirements.txt <($(VENV)/bin/uv export --locked --offline --no-dev --no-emit-project --format requirements-txt --no-header --quiet) \
	  || { echo "requirements.txt is out of date: run 'make lock'"; exit 1; }
	diff -q requirements-dev.txt <($(VENV)/bin/uv export --locked --offline --no-emit-project --format requirements-txt --no-header --quiet) \
	  || { echo "requirements-dev.txt is out of date: run 'make lock'"; exit 1; }

# The browser tests (tests/admin/browser) drive Debian's chromium; installed here when missing, a no-op otherwise.
browser:
	@scripts/install-chromium.sh

test: $(STAMP) browser
	DEBUG=1 $(PY) manage.py check
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=1 $(VENV)/bin/mypy apps everruns
	DEBUG=1 $(PY) manage.py export_openapi --output $(VENV)/openapi.check.json
	diff -q docs/openapi.json $(VENV)/openapi.check.json || { echo "docs/openapi.json is out of date: run 'make openapi'"; exit 1; }
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

openapi: $(STAMP)
	DEBUG=1 $(PY) manage.py export_openapi --output docs/openapi.json

clean:
	rm -rf $(VENV) var

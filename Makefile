# The two commands: `make run` (the whole portal on SQLite, tasks in-process, demo data) and
# `make test` (the whole suite). Both set up everything they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup deps assets messages lint lock bench-import help java

help:
	@echo "make run    - set up and serve the portal on http://$(HOST):$(PORT) (SQLite, demo data)"
	@echo "make test   - set up and run the whole test suite"
	@echo "make lint   - ruff and the import layers (lint-imports)"
	@echo "make lock   - recompile requirements.txt from requirements.in (upgrading; UPGRADE= keeps the pins)"

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# Only what the lock names, at its versions and hashes (pip and setuptools included); pip-sync
	# then removes anything else a venv may still hold.
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/pip-sync --quiet requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

deps: $(VENV)/.installed node_modules/.installed

messages: deps
	$(BIN)/python scripts/i18n.py compile

setup: deps messages
	mkdir -p var

run: setup
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/ — demo users: merchant, merchant2, agent, engineer, reviewer, admin (password demo-pass-2026)"
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: setup java
	$(BIN)/pytest $(PYTEST_ARGS)

# The lock: every package pinned with its hashes, pip and setuptools included (--allow-unsafe), no
# index or path of the machine it was made on. pip-tools comes from the lock itself.
UPGRADE ?= --upgrade
lock: $(VENV)/.installed
	$(BIN)/pip-compile --quiet $(UPGRADE) --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links --output-file requirements.txt requirements.in
	$(BIN)/pip-sync --quiet requirements.txt
	touch $(VENV)/.installed

# The HTML validator (vnu.jar, from npm) runs on Java: Debian's, installed when missing and possible.
java:
	@command -v java >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null); } \
	  || echo "java is missing: the HTML validation test needs it (apt-get install default-jre-headless)"

lint: deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

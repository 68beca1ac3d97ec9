# Mendwell: `make run` sets up and serves the demo clinic; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PORT ?= 8000

.PHONY: run install install-dev migrate seed serve test test-fast test-browser test-topology lint typecheck check bench bench-topology lock totp clean

run: install migrate seed serve

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

# Test and lint tools: a second lock, added by `make test` (the runtime never carries them).
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

migrate: install
	$(MANAGE) create_local_key
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable
	$(MANAGE) collectstatic --noinput -v0

seed: install
	$(MANAGE) seed_demo

serve: install
	PORT=$(PORT) bin/serve

# Every test: unit, HTTP and (when Chromium is installed) the browser journeys.
test: install-dev
	$(BIN)/pytest -m "not topology"

test-fast: install-dev
	$(BIN)/pytest -m "not browser and not topology"

test-browser: install-dev
	$(BIN)/pytest -m browser

# The scale-out topology of deploy/ started and tested: needs nginx, PostgreSQL and Redis.
test-topology: install-dev
	$(BIN)/pytest -m topology -s tests/topology

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install-dev
	$(BIN)/mypy

check: lint typecheck test

bench: install-dev
	$(BIN)/python bench/run.py
	$(BIN)/python bench/registry.py

# Requests per second through nginx at 1, 2 and 4 gunicorn workers (wrk when installed).
bench-topology: install-dev
	$(BIN)/python bench/topology.py

# Print the current TOTP code of a demo account: make totp EMAIL=maya.chen@demo.mendwell.example
totp: install
	@$(MANAGE) totp $(EMAIL)

# Both locks from a clean virtualenv: the runtime alone, then the test tools on top.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.in
	( echo "# Runtime lock: every package make run needs, pinned. Regenerate with 'make lock' after editing requirements.in."; \
	  .lock-venv/bin/pip freeze --exclude-editable ) > requirements.txt
	.lock-venv/bin/pip install --quiet -r requirements-dev.in
	( echo "# Test and lint lock: installed by 'make test' on top of requirements.txt. Regenerate with 'make lock'."; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -vxFf requirements.txt ) > requirements-dev.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

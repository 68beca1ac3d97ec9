# Mendwell: `make run` sets up and serves the demo clinic; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PORT ?= 8000

.PHONY: run install migrate seed serve test test-fast test-browser lint typecheck check bench lock totp clean

run: install migrate seed serve

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

migrate: install
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable

seed: install
	$(MANAGE) seed_demo

serve: install
	PORT=$(PORT) bin/serve

# Every test: unit, HTTP and (when Chromium is installed) the browser journeys.
test: install
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not browser"

test-browser: install
	$(BIN)/pytest -m browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

bench: install
	DJANGO_SETTINGS_MODULE=clinic.settings $(BIN)/python bench/run.py

# Print the current TOTP code of a demo account: make totp EMAIL=maya.chen@demo.mendwell.example
totp: install
	@$(MANAGE) totp $(EMAIL)

lock:
	$(BIN)/python -m pip install --quiet -r requirements.in
	( echo "# Lock file: every package pinned. Regenerate with 'make lock' after editing requirements.in."; \
	  $(BIN)/python -m pip freeze --exclude-editable ) > requirements.txt

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Two commands: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app survey_app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.stamp-runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: requirements-dev.txt $(VENV)/.stamp-runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## setup: virtualenv, dependencies, migrations, demo catalogue, demo answers (first time only)
setup: $(VENV)/.stamp-runtime
	$(FLASK) db upgrade
	$(FLASK) demo setup

## run: set everything up and serve the demo on http://127.0.0.1:5000
run: setup
	$(FLASK) run --host $(HOST) --port $(PORT)

## test: install the test dependencies and run ruff and pytest (SQLite, and PostgreSQL with TEST_DATABASE_URL)
test: $(VENV)/.stamp-dev
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check .

## bench: the benchmarks under bench/, each printed as a ratio to a bare baseline
bench: $(VENV)/.stamp-dev
	@for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

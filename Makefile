# Two commands: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app survey_app
HOST ?= 127.0.0.1
PORT ?= 5000

VENDOR := survey_app/static/vendor
BI := node_modules/bootstrap-italia/dist

.PHONY: setup assets translations run test lint bench loadtest clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.stamp-runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: requirements-dev.txt $(VENV)/.stamp-runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## assets: Bootstrap Italia from npm, served by the app (never committed), pre-compressed for WhiteNoise
assets: node_modules/.stamp $(VENV)/.stamp-runtime
	mkdir -p $(VENDOR)/bootstrap-italia/css $(VENDOR)/bootstrap-italia/fonts
	cp $(BI)/css/bootstrap-italia.min.css $(VENDOR)/bootstrap-italia/css/
	cp $(BI)/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff2 \
	   $(BI)/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-600.woff2 \
	   $(BI)/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-700.woff2 \
	   $(BI)/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.ttf \
	   $(BI)/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-700.ttf $(VENDOR)/bootstrap-italia/fonts/
	# plotly.js's basic bundle (bar, scatter, pie: all our charts draw), a quarter of the full one's weight
	rm -rf $(VENDOR)/plotly && mkdir -p $(VENDOR)/plotly
	cp node_modules/plotly.js-basic-dist-min/plotly-basic.min.js $(VENDOR)/plotly/
	# plotly.js's Italian (toolbar, decimal comma): the locale module as published, registered with plotly when loaded
	{ echo '(function (module) {'; cat node_modules/plotly.js-locales/it.js; \
	  echo 'Plotly.register(module.exports);}({}));'; } > $(VENDOR)/plotly/plotly-locale-it.js
	$(BIN)/python -m whitenoise.compress --quiet --no-brotli survey_app/static

## translations: compile the .po catalogues (the compiled .mo files are not committed)
translations: $(VENV)/.stamp-runtime
	$(BIN)/pybabel compile -d survey_app/translations

# The demo publishes a year and draws QR posters: with the address it is served at, unless one is set.
setup run: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)

## setup: virtualenv, dependencies, assets, translations, migrations, demo catalogue, demo answers (first time only)
setup: $(VENV)/.stamp-runtime assets translations
	$(FLASK) db upgrade
	$(FLASK) demo setup

## run: set everything up and serve the demo on http://$(HOST):$(PORT) (127.0.0.1:5000 unless given)
run: setup
	$(FLASK) run --host $(HOST) --port $(PORT)

## chromium: the browser tests drive Debian's Chromium: installed when missing (as root), else one clear line
chromium:
	@[ -x /usr/bin/chromium ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make test: installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else \
	    echo "make test: the browser tests need Debian's Chromium at /usr/bin/chromium: install it (apt-get install chromium) or run make test PYTEST_ARGS='-m \"not browser\"'" >&2; \
	    exit 1; \
	  fi; }

## test: install the test dependencies and run ruff and pytest (SQLite, and PostgreSQL with TEST_DATABASE_URL)
test: $(if $(findstring not browser,$(PYTEST_ARGS)),,chromium) $(VENV)/.stamp-dev assets translations
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check .

## bench: the benchmarks under bench/, each printed as a ratio to a bare baseline
bench: $(VENV)/.stamp-dev
	@for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

## loadtest: simulated citizens against gunicorn on 127.0.0.1 (SQLite, PostgreSQL, two instances, a SIGKILL)
loadtest: $(VENV)/.stamp-dev assets translations
	$(BIN)/python bench/loadtest.py

## extract-messages: refresh the .po catalogues after changing user-facing texts
extract-messages: $(VENV)/.stamp-runtime
	$(BIN)/pybabel extract -F babel.cfg -k _l -o survey_app/translations/messages.pot .
	$(BIN)/pybabel update -i survey_app/translations/messages.pot -d survey_app/translations -w 120 --ignore-obsolete

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache .ruff_cache

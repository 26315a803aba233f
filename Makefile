# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app web
PORT ?= 5000
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit install assets translations messages chromium letter-deps db demo timers notify bench clean

$(STAMP): requirements.txt tests/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r tests/requirements.txt
	touch $(STAMP)

install: $(STAMP) assets translations

## Compile the message catalogues (web/translations/*/LC_MESSAGES/messages.po → .mo)
translations: $(STAMP)
	$(BIN)/pybabel -q compile -d web/translations

## After adding or changing UI text: extract every marked string and update the catalogues
messages: $(STAMP)
	PYTHONPATH=. $(BIN)/pybabel -q extract -F babel.cfg -k N_ -k _ --no-location --sort-output \
		-o web/translations/messages.pot .
	$(BIN)/pybabel -q update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching --ignore-obsolete

## Browser assets: npm packages, and the procedure editor bundled by esbuild (web/assets → web/static/build)
assets:
	@if [ -f web/package.json ]; then \
		cd web && if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund --loglevel=error; fi; \
		if [ ! -f static/build/modeler.js ] || [ -n "$$(find assets package-lock.json -newer static/build/modeler.js)" ]; then npm run --silent build; fi; \
	fi

db: install letter-deps
	SIBALANG_DEMO=1 $(FLASK) db upgrade
	SIBALANG_DEMO=1 $(FLASK) letters demo-certificate
	SIBALANG_DEMO=1 $(FLASK) processes deploy bpmn --keep-deployed

demo: db
	SIBALANG_DEMO=1 $(FLASK) demo load

## Serve the app on 127.0.0.1:$(PORT) with demo users and cases (development mode)
run: demo
	@SIBALANG_DEMO=1 $(FLASK) demo logins
	@echo "Serving on http://127.0.0.1:$(PORT)  (API docs: /api/v1/openapi.json)"
	SIBALANG_DEMO=1 $(FLASK) run --host 127.0.0.1 --port $(PORT)

timers: install
	$(FLASK) timers run

## Send queued notifications to applicants (log file, or the gateway in NOTIFY_GATEWAY_URL)
notify: install
	$(FLASK) notifications send --loop

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

## Debian's Chromium for the browser tests (Playwright drives it; never `playwright install`)
chromium:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

## Debian libraries letters need: Pango and HarfBuzz-Subset for WeasyPrint, the Liberation fonts embedded in every
## letter, poppler-utils for the tests' pdftotext/pdftoppm (apt-get only when something is missing)
letter-deps:
	@ldconfig -p | grep -q libpangoft2-1.0 && ldconfig -p | grep -q libharfbuzz-subset && fc-list | grep -q "Liberation Sans" && command -v pdftotext >/dev/null \
		|| (apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation poppler-utils)

unit: install chromium letter-deps
	$(BIN)/python -m pytest -q

## Lint, type-check and the whole test suite (TEST_DATABASE_URL switches to PostgreSQL)
test: lint typecheck unit

## Benchmarks (not part of `make test`): prints the figures and ratios measured in one run
bench: install letter-deps
	$(BIN)/python tests/bench/bench_engine.py
	$(BIN)/python tests/bench/bench_letters.py

## Load test: gunicorn -w 4 on PostgreSQL (LOAD_DATABASE_URL, emptied!), 16 clients for 30 s
load: install
	$(BIN)/python tests/bench/load.py

clean:
	rm -rf $(VENV) instance web/node_modules .pytest_cache .mypy_cache .ruff_cache

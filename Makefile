# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: run test install install-test node-deps vendor bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/activate
	$(BIN)/pip install -q -e .

install-test: $(BIN)/activate
	$(BIN)/pip install -q -e '.[test]'

# ical.js (Thunderbird's parser) for the feed tests, from the npm registry.
node-deps:
	@if command -v npm >/dev/null; then cd tests/js && npm ci --silent --no-audit --no-fund; \
	else echo "npm not found: feed tests with ical.js will be skipped"; fi

# The demo shows the IPT plugin; set PRACTICE_PLUGINS= (empty) for the bare core.
run: export PRACTICE_PLUGINS ?= ipt
run: install
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi practice demo
	@echo
	@echo "Open http://$(HOST):$(PORT)/ and sign in with a demo login above."
	@echo "(API under /api, OpenAPI at /api/openapi.json; another address: make run PORT=8000 HOST=0.0.0.0)"
	@echo
	$(BIN)/gunicorn --workers 2 --bind $(HOST):$(PORT) --access-logfile - wsgi:app

test: install-test
	@if [ -f tests/js/package.json ]; then $(MAKE) --no-print-directory node-deps; fi
	$(BIN)/pytest $(PYTEST_ARGS)

# Refresh the front-end files the app serves (practice/web/static/vendor/)
# from the versions pinned in web-vendor/package-lock.json; needs npm.
vendor:
	bash web-vendor/vendor.sh

bench: install-test
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance *.egg-info

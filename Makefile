# The two commands a newcomer needs: `make up` (the whole system on this machine) and
# `make test` (every test). Both install the project into .venv from pyproject.toml first.

VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: up test install lint catalogue

$(BIN)/lifecare $(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed

# the tests' tools from Debian and npm: chromium for the browser tests (never a downloaded
# browser), promtool for the alert rules, axe-core for the accessibility checks
WEB_TOOLS := tests/web/node_modules/.installed
$(WEB_TOOLS): tests/web/package.json tests/web/package-lock.json
	command -v chromium >/dev/null && command -v promtool >/dev/null \
		|| (apt-get update -qq && apt-get install -y -qq chromium prometheus)
	npm ci --prefix tests/web --no-audit --no-fund --silent
	touch $@

# the operators' APIs for the deploy tests (tests/deploy/custom-resources.mjs checks the
# CloudNativePG and Prometheus Operator resources in deploy/ against them)
DEPLOY_TOOLS := tests/deploy/node_modules/.installed
$(DEPLOY_TOOLS): tests/deploy/package.json tests/deploy/package-lock.json
	npm ci --prefix tests/deploy --no-audit --no-fund --silent
	touch $@

# the development OpenID provider (`make up` and the browser tests sign in through it)
DEV_IDP := deploy/dev-idp/node_modules/.installed
$(DEV_IDP): deploy/dev-idp/package.json deploy/dev-idp/package-lock.json
	npm ci --prefix deploy/dev-idp --no-audit --no-fund --silent
	touch $@

install: $(VENV)/.installed $(WEB_TOOLS) $(DEPLOY_TOOLS) $(DEV_IDP)

up: $(VENV)/.installed $(DEV_IDP)
	$(BIN)/lifecare up

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint $(WEB_TOOLS) $(DEPLOY_TOOLS) $(DEV_IDP)
	$(BIN)/pytest

# the web UI's message catalogue, gathered from its templates and code (a test checks that
# the committed one is up to date)
catalogue: $(VENV)/.installed
	$(BIN)/pybabel extract -F services/web/babel.cfg -k N_ --no-location \
		--omit-header --sort-output -o services/web/locale/messages.pot .

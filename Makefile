# The two commands a newcomer needs: `make up` (the whole system on this machine) and
# `make test` (every test). Both install the project into .venv from pyproject.toml first.

VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: up test install lint

$(BIN)/lifecare $(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed

install: $(VENV)/.installed

up: $(VENV)/.installed
	$(BIN)/lifecare up

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

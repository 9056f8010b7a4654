# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
# axe-core for the browser tests only (package-lock.json pins it); `make run` needs no npm.
NODE_STAMP := node_modules/.installed-$(shell cksum < package-lock.json | cut -d' ' -f1)

.PHONY: install install-test-tools run test lint typecheck imports check ci clean

$(STAMP): pyproject.toml
	@echo "==> Creating the virtual environment in $(VENV) and installing the dependencies"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	@echo "==> Installing the browser tests' tools (axe-core) with npm ci"
	@npm ci --no-audit --no-fund --loglevel=error
	@rm -f node_modules/.installed-*
	@touch $@

install-test-tools: $(NODE_STAMP)

run: install
	@$(PY) scripts/run_portal.py

test: install install-test-tools
	@echo "==> Looking for PostgreSQL and Redis"
	@eval "$$($(PY) scripts/test_services.py)" && $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy .

# The architecture's arrows (pyproject.toml, [tool.importlinter]).
imports: install
	$(VENV)/bin/lint-imports --no-cache

check: lint typecheck imports
	$(PY) manage.py makemigrations --check --dry-run

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var node_modules

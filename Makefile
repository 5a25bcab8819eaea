# The two commands a newcomer needs are `make demo` and `make test`; everything else is theirs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock requirements-semgrep.lock tests/plugins/example_provider/pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_WORKERS ?= 2

.PHONY: setup demo demo-rollback serve test lint format bench clean

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock \
		-e '.[dev]' -e tests/plugins/example_provider
	# semgrep pins what we pin differently: it gets a virtual environment of its own
	$(BIN)/python -m venv $(VENV)/semgrep
	$(VENV)/semgrep/bin/python -m pip install --quiet --disable-pip-version-check \
		--only-binary semgrep -r requirements-semgrep.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)  ## create .venv with pinned dependencies

CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):  # the browser tests drive Debian's chromium; apt-get brings it when missing
	@echo "Installing Debian's chromium for the browser tests (apt-get)"
	apt-get install -y --no-install-recommends chromium || \
		(apt-get update && apt-get install -y --no-install-recommends chromium)

SLAPD ?= /usr/sbin/slapd
$(SLAPD):  # the LDAP sync tests run a real OpenLDAP; apt-get brings it (never started as a service)
	@echo "Installing Debian's slapd and ldap-utils for the LDAP tests (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slapd ldap-utils || \
		(apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slapd ldap-utils)

WAPITI ?= /usr/bin/wapiti
$(WAPITI):  # the DAST tests scan a tiny vulnerable app on 127.0.0.1 with Debian's wapiti
	@echo "Installing Debian's wapiti for the DAST tests (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wapiti || \
		(apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wapiti)

PROMETHEUS ?= /usr/bin/prometheus
$(PROMETHEUS):  # the deploy analysis tests start Debian's prometheus on 127.0.0.1 (never as a service)
	@echo "Installing Debian's prometheus for the deploy analysis tests (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus || \
		(apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus)

demo: setup  ## set up, load the demo organisation and start the portal on http://127.0.0.1:8000
	$(BIN)/pavedroad demo

demo-rollback: setup  ## deploy a tiny service, then a broken version, and watch it roll back
	$(BIN)/pavedroad demo-rollback

serve: setup
	$(BIN)/pavedroad serve

lint: setup  ## formatting, lint and types
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: lint $(CHROMIUM) $(SLAPD) $(WAPITI) $(PROMETHEUS)  ## every check and every test (SQLite, PostgreSQL, a browser, OpenLDAP, wapiti, prometheus)
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q

format: setup
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The README's two commands: `make demo` and `make test`. Each sets itself up on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.spark-installed
DEMO_DIR ?= demo

.PHONY: demo test bench serve lint sysdeps sysdeps-test clean docs

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

# Optional Spark engine (PySpark + a JVM) for the two-engine parity tests.
$(SPARK_STAMP): $(STAMP)
	@command -v java >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq default-jre-headless >/dev/null; }
	$(PY) -m pip install -q -e '.[dev,spark]'
	@touch $@

# System packages the tests need: 7-Zip (Deflate64 sample zips) and Debian's Chromium (browser tests).
sysdeps-test:
	@command -v 7z >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq p7zip-full >/dev/null; } || echo "warning: could not install p7zip-full"
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || echo "warning: could not install chromium"

demo: $(STAMP)
	$(PY) -m immfacts demo --out $(DEMO_DIR)

test: $(SPARK_STAMP) sysdeps-test
	$(VENV)/bin/ruff check src tests
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/run.py

serve: $(STAMP)
	$(PY) -m immfacts serve

# Regenerate the generated reference pages (CLI, metrics, sources, web API, Python API, data quirks).
docs: $(STAMP)
	$(PY) tools/gen_docs.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .ruff_cache

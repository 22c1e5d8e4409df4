# Set-up commands of the README. Everything installs into .venv/ in the project root.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
TORCH  := torch==2.13.0
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test test-fast index bench eval

$(PY):
	python3 -m venv $(VENV)

# torch first, pinned: a bare torch requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/rag build
	$(VENV)/bin/rag serve --host $(HOST) --port $(PORT)

# The browser tests need Debian's chromium (no browser download); the reader tests need LibreOffice
# (it lays out the generated Word file as a PDF). The scripts install what is missing.
test: install
	bash scripts/install-browser.sh
	bash scripts/install-test-packages.sh
	$(VENV)/bin/ruff check .
	$(PY) -m pytest --durations=15

test-fast: install
	$(PY) -m pytest -m "not slow" -q

# Benchmarks (minutes; figures and bench/results/*.json|md): ours against the LangChain baseline
# (its own venv, bench/.venv-langchain, created on first use), HTTP with Debian's hey, and the
# dense index at scale. CI runs only a smoke version (tests/test_bench_smoke.py).
bench: install
	command -v hey >/dev/null || bash scripts/apt-install.sh hey
	$(PY) bench/compare.py --runs 5 --library 1000 --http
	$(PY) bench/scale.py --sizes 10000 100000

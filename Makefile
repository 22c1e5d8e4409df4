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

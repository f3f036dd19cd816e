# Two commands: `make run` serves the dashboard, `make test` runs every test (browser tests included).
VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= python3
PORT   ?= 8501
ADDRESS ?= 127.0.0.1

.PHONY: run test install bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(BIN)/.test-installed: $(BIN)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

run: $(BIN)/.installed
	$(BIN)/judge demo --if-empty
	$(BIN)/judge serve --address $(ADDRESS) --port $(PORT)

test: $(BIN)/.test-installed
	@sh .ci/ensure-chromium
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(BIN)/.installed
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) data/*.duckdb data/*.duckdb.wal data/*.lock

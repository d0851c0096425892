# Two entry points (see README): `make demo` and `make test`. Both set up .venv first.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@py=$$(tools/find_python.sh) || exit 1; \
	  [ -x $(BIN)/python ] || $$py -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@# vspipe finds its Python through a per-user config written by this command.
	$(BIN)/vapoursynth config >/dev/null
	@touch $(STAMP)

demo: setup
	@mkdir -p out
	$(BIN)/vspipe -c y4m -p examples/demo.vpy out/demo.y4m
	@echo "wrote $$(pwd)/out/demo.y4m"

test: setup
	$(BIN)/ruff check vsanimeinterp tests examples tools
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check vsanimeinterp tests examples tools

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache

# simkit: `make demo` runs the main job on the embedded defaults, `make test` runs the suite.
# Both create .venv on first use from the tested pins (requirements.txt) and the torch
# constraint (constraints.txt: the CPU wheel, never a multi-GB CUDA build).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt
DEMO_DIR := demo-data
# A fixed end date keeps the demo data, and so every number derived from it, reproducible.
DEMO_END := 2026-11-20
LINT_PATHS := $(wildcard simkit tests bench scripts)

.PHONY: install demo test lint bench clean lab docs mutation

$(VENV)/.installed: pyproject.toml requirements.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -e .
	# Papermill and nbval run notebooks on the kernel named python3: make it this venv's
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	# optional speed-up: without rfc3987-syntax, jsonschema builds no grammar when altair
	# is imported, which saves ~1 s in every process that imports altair
	$(BIN)/pip uninstall -y -q rfc3987-syntax 2>/dev/null || true
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/simkit generate $(DEMO_DIR) --seed 7 --campaigns 6 --days 150 --end $(DEMO_END)
	$(BIN)/simkit validate $(DEMO_DIR)/campaigns.csv
	$(BIN)/simkit run params/demo.yaml
	@echo "index: $(CURDIR)/reports/demo/index.html"

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	# the layers and the no-cycles rule of [tool.importlinter] in pyproject.toml
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

# every bench/*.py, printed, and its figures written as JSON with the machine's description
# to bench-results/<UTC time>.json; `bench/compare.py OLD NEW` flags figures > 20% worse
bench: install
	PYTHONPATH=. $(BIN)/python bench/run_all.py

# JupyterLab in the project, on the venv's kernel (`python3`, installed by `install`);
# --allow-root only when run as root (CI, containers): Jupyter refuses root otherwise
lab: install
	$(BIN)/jupyter lab --notebook-dir=$(CURDIR) $(if $(filter 0,$(shell id -u)),--allow-root,)

# The mutation check of the core maths ([tool.mutmut] in pyproject.toml: the engine, the
# summary and the optimiser); one child, as mutants share the machine with everything else.
# Results are kept in mutants/ (git-ignored), so a second run checks only what changed;
# `mutmut show NAME` prints one mutant. The score per file is printed at the end.
mutation: install
	$(BIN)/mutmut run --max-children 1
	$(BIN)/python scripts/mutation_score.py

# The docs site, offline and strict (scripts/build_docs.py): build/site/index.html
docs: install
	$(BIN)/python scripts/build_docs.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) mutants .simkit-cache .pytest_cache .ruff_cache .import_linter_cache

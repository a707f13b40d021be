# The two commands a fresh machine needs:
#   make demo   install everything, then run the main job on the embedded model
#   make test   install everything, then lint, type-check and run the test suite
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cobalt-installed

.PHONY: demo test install lint typecheck pytest clean check-references side-envs

$(STAMP): pyproject.toml scripts/setup.sh
	@bash scripts/setup.sh
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@$(BIN)/cobalt run configs/demo.yaml
	@echo "Open the report in a browser: $(BIN)/python -m webbrowser file://$(CURDIR)/runs/demo/report/index.html"

check-references: $(STAMP)
	@bash scripts/grade_references.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

# Side environments for tests/export: verl's own code, one per release (test_verl_releases.py),
# and Python 3.10 (test_verl_py310.py); for tests/llm: transformers 5.17, the GPU image's
# (test_transformers_versions.py).
side-envs: $(STAMP)
	@bash scripts/verl_envs.sh
	@bash scripts/py310_env.sh
	@bash scripts/transformers_env.sh

pytest: $(STAMP) side-envs
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .venv-py310 .mypy_cache .ruff_cache .pytest_cache
	rm -rf .venv-verl-* .venv-uv .python .venv-py310.log .venv-tf517 .venv-tf517.log

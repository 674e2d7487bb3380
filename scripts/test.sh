#!/usr/bin/env bash
# Set up (idempotently) and run every check CI runs: ruff, mypy, the layer contracts, and the
# whole pytest suite (unit, integration as root, compat). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff";         .venv/bin/ruff check src tests bench
echo "== mypy";         .venv/bin/mypy
echo "== import-linter"; .venv/bin/lint-imports --no-cache
echo "== pytest"
.venv/bin/pytest -q -p no:cacheprovider "$@"

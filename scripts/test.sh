#!/usr/bin/env bash
# The one test command (README's second command; .ci/run calls it too).
# Installs what the tests need, starts PostgreSQL if it is down, then runs formatting,
# lints and every test: unit tests, the store contract suite on SQLite and PostgreSQL,
# and the end-to-end suite against the real binary (SQLite, PostgreSQL, S3 on moto, and the
# real mlflow client from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

export OPENSSL_NO_VENDOR=1

# PostgreSQL 15 on 127.0.0.1:5432 (trust auth); the suites create and drop their own databases.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

# moto serves an S3 API on loopback for the object-store tests.
if ! command -v moto_server >/dev/null 2>&1; then
    echo "installing moto[server]"
    python3 -m pip install --quiet --disable-pip-version-check 'moto[server]'
    hash -r
fi
if ! command -v moto_server >/dev/null 2>&1; then
    MOTO_SERVER="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/moto_server"
    export MOTO_SERVER
fi

# The real mlflow client (tests/e2e/mlflow.rs), in a virtual environment outside the clone.
MLFLOW_VERSION=3.17.2
VERITY_MLFLOW_VENV="${VERITY_MLFLOW_VENV:-/var/tmp/verity-mlflow-venv}"
if ! "$VERITY_MLFLOW_VENV/bin/python" -c "import sys, mlflow; sys.exit(mlflow.__version__ != '$MLFLOW_VERSION')" 2>/dev/null; then
    echo "installing mlflow $MLFLOW_VERSION into $VERITY_MLFLOW_VENV"
    python3 -m venv "$VERITY_MLFLOW_VENV"
    "$VERITY_MLFLOW_VENV/bin/pip" install --quiet --disable-pip-version-check "mlflow==$MLFLOW_VERSION"
fi
export VERITY_MLFLOW_PYTHON="$VERITY_MLFLOW_VENV/bin/python"
# The Python SDK (sdk/python) and pytest, in the same environment (it has pandas and pyarrow).
"$VERITY_MLFLOW_VENV/bin/python" -c "import pytest" 2>/dev/null \
    || "$VERITY_MLFLOW_VENV/bin/pip" install --quiet --disable-pip-version-check pytest
# PyTorch, for the SDK's nn.Sequential helper (sdk/python/tests/test_torch.py runs on the CPU).
# PyPI's Linux wheel brings its CUDA libraries: about 3 GB, 2 minutes, installed once.
TORCH_VERSION=2.9.1
"$VERITY_MLFLOW_VENV/bin/python" -c "import sys, torch; sys.exit(not torch.__version__.startswith('$TORCH_VERSION'))" 2>/dev/null \
    || "$VERITY_MLFLOW_VENV/bin/pip" install --quiet --disable-pip-version-check "torch==$TORCH_VERSION"
"$VERITY_MLFLOW_VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --force-reinstall ./sdk/python

# Debian's Chromium, for the dashboard's browser tests (frontend/tests, driven by playwright-core).
if ! command -v chromium >/dev/null 2>&1; then
    echo "installing chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# poppler's pdftotext: the compliance tests read the text of the PDFs the server renders.
if ! command -v pdftotext >/dev/null 2>&1; then
    echo "installing poppler-utils"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
fi
# The dashboard: its locked npm packages, lint, type check, unit tests (Vitest) and the build that
# the binary serves (debug builds read frontend/dist from disk; release builds embed it).
(
    cd frontend
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
    npm run lint
    npm test
    npm run build
)

# The end-to-end tests check the dashboard's files as built above (not the not-built answer).
export VERITY_REQUIRE_DASHBOARD=1

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --no-fail-fast

# The dashboard in Chromium against the real server (the binary the Rust tests just built).
VERITY_BIN="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/verity" npm --prefix frontend run test:browser

# The Python SDK against the real server (the binary the Rust tests just built).
VERITY_BIN="${CARGO_TARGET_DIR:-target}/debug/verity" "$VERITY_MLFLOW_PYTHON" -m pytest -q -p no:cacheprovider sdk/python/tests

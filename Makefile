# Convenience targets; each is one command you can also type yourself.
export OPENSSL_NO_VENDOR := 1

.PHONY: run dashboard test bench fmt lint openapi

## Run the service on the embedded defaults (SQLite + blobs under ./verity-data) on 127.0.0.1:8080,
## with the dashboard at http://127.0.0.1:8080/ui/ (built first, then embedded in the binary).
run: dashboard
	cargo run --release -p verity -- serve

## Build the dashboard (frontend/dist) from the locked npm packages.
dashboard:
	cd frontend && npm ci --no-audit --no-fund && npm run build

## Every test: fmt, clippy, unit, store contract (SQLite + PostgreSQL), end-to-end (SQLite, PostgreSQL, S3).
test:
	./scripts/test.sh

## The registry benchmarks (release build), figures as a Markdown table.
bench:
	cargo build --release -p verity -p verity-tests
	./target/release/verity-bench

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings

## Regenerate docs/openapi.json after an intended API change.
openapi:
	UPDATE_OPENAPI=1 cargo test -p verity --bin verity openapi_document_is_committed

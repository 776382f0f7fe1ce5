#!/usr/bin/env bash
# The evaluation benchmark on a GPU machine: builds monitor/examples/eval_bench with CUDA
# (needs the CUDA toolkit and cargo), then evaluates the MLP 20->64->64->1 over ROWS rows
# (default 10,000,000) on the CPU and on the GPU, and prints the GPU/CPU ratio.
#   scripts/gpu-eval-bench.sh [ROWS] [DATA_DIR] [BATCH]
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENSSL_NO_VENDOR=1
rows=${1:-10000000}
dir=${2:-/var/tmp/verity-eval-bench}
batch=${3:-65536}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
cargo build --release -p verity-monitor --features cuda --example eval_bench
bench=${CARGO_TARGET_DIR:-target}/release/examples/eval_bench
cpu=$("$bench" "$rows" "$dir" cpu "$batch" | tee /dev/stderr | awk '/^median/ {print $5}')
gpu=$("$bench" "$rows" "$dir" cuda "$batch" | tee /dev/stderr | awk '/^median/ {print $5}')
awk -v c="$cpu" -v g="$gpu" 'BEGIN { printf "rows/s: cpu %d, gpu %d, gpu/cpu %.1fx\n", c, g, g / c }'

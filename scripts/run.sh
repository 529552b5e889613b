#!/usr/bin/env bash
# README command 1: install what is missing, build, and start profgate with
# its default configuration (or with the arguments given, e.g. --config FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPG_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
exec ./build/profgate "$@"

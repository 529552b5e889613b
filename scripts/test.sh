#!/usr/bin/env bash
# README command 2: install what is missing, build, and run the whole test
# suite: a -Werror build, the same suite under AddressSanitizer and
# UndefinedBehaviorSanitizer, and each libFuzzer target for a short while.
#   PG_FUZZ_SECONDS  seconds per fuzz target (default 20; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
fuzz_seconds=${PG_FUZZ_SECONDS:-20}

echo "== clang-format check"
git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror

echo "== build (Release, -Werror) and test"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPG_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== build with ASan+UBSan and test"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPG_WERROR=ON -DPG_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

if [ "$fuzz_seconds" -gt 0 ] && [ -n "$(ls tests/fuzz/fuzz_*.c 2>/dev/null)" ]; then
  echo "== fuzz targets, ${fuzz_seconds}s each"
  CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DPG_FUZZ=ON -DPG_TESTS=OFF >/dev/null
  cmake --build build-fuzz -j"$jobs"
  ran=0
  for f in build-fuzz/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus="build-fuzz/corpus/$name"
    mkdir -p "$corpus"
    # real requests as seeds for the OTLP decoders (read-only: new inputs go to $corpus)
    seeds=()
    case "$name" in
      fuzz_otlp_*) seeds=(../shared/fixtures/third_party/grafana-pyroscope) ;;
    esac
    echo "-- $name"
    log="build-fuzz/$name.log"
    rc=0
    "$f" -max_total_time="$fuzz_seconds" -print_final_stats=1 "$corpus" "${seeds[@]}" >"$log" 2>&1 || rc=$?
    grep -E "stat::number_of_executed_units" "$log" || true
    if [ "$rc" -ne 0 ]; then
      tail -n 60 "$log"
      echo "$name found a problem (exit $rc); the input is in the crash-* file above" >&2
      exit 1
    fi
    ran=$((ran + 1))
  done
  [ "$ran" -gt 0 ] || { echo "no fuzz target was built" >&2; exit 1; }
fi
echo "all test stages passed"

#!/usr/bin/env bash
# Installs the Debian packages profgate needs to build and to run its tests.
# Does nothing when everything is already there. Needs root or sudo.
set -euo pipefail

PACKAGES=(
  # build
  cmake make gcc pkg-config
  libprotobuf-c-dev protobuf-c-compiler libnghttp2-dev libssl-dev libyaml-dev libzstd-dev
  zlib1g-dev libuv1-dev libhttp-parser-dev libjansson-dev libcurl4-openssl-dev libpcre2-dev
  # tests: unit tests, fuzzing, real peers (see ../shared/docs/test-infra.md)
  libcmocka-dev clang clang-format libclang-rt-14-dev git curl nghttp2-client openssl
  python3 python3-grpcio python3-protobuf protobuf-compiler
  golang-go golang-github-google-pprof-dev
)

# The Pyroscope Node.js SDK tests need Node and npm (the SDK itself comes from
# the npm registry when the test runs). Images with their own Node keep it.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq -o DPkg::Lock::Timeout=300
$SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${missing[@]}"

#!/usr/bin/env bash
# Installs what the end-to-end tests use besides Rust, once (each step is skipped when done):
#   - Debian's Chromium, for the dashboard's real-browser test (tests/tests/dashboard.rs);
#   - schemathesis from PyPI, in target/tools/venv, for the OpenAPI conformance test
#     (tests/tests/schemathesis.rs).
# Needs root or sudo for apt, and python3 with venv. Used by .ci/run and the README.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends chromium
fi
chromium --version 2>/dev/null || true

venv=target/tools/venv
if ! "$venv/bin/schemathesis" --version >/dev/null 2>&1; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends python3-venv
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi
"$venv/bin/schemathesis" --version

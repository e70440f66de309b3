#!/usr/bin/env bash
# Runs a project command with the tools of scripts/setup.sh first on PATH (installing them if needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH=$PWD/.tools/node/bin:$PWD/.tools/bin:$PATH
case "${1:-}" in
  start) shift; bash scripts/kube-tools.sh mailpit; exec node stack/start.ts "$@" ;; # the SMTP server, built once, then cached
  bench) shift; bash scripts/kube-tools.sh mailpit; exec node bench/run.ts "$@" ;; # the stack's SMTP server, as for start
  test)
    shift
    bash scripts/kube-tools.sh # the tests' Kubernetes API server (built once, then cached)
    node node_modules/typescript/bin/tsc --noEmit -p .
    node node_modules/eslint/bin/eslint.js .
    exec node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand "$@" ;;
  *) exec "$@" ;;
esac

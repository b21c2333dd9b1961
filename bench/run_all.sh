#!/usr/bin/env bash
# Runs every benchmark and prints its figures.
set -euo pipefail
build=${1:-build}
"$build/bench/freezr_scan_bench" --procs 1000 --procs 5000 --iterations 30
"$build/bench/freezr_actions_bench" --iterations 200

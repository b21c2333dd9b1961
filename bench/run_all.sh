#!/usr/bin/env bash
# Runs every benchmark and prints its figures.
set -euo pipefail
build=${1:-build}
"$build/bench/freezr_scan_bench" --procs 1000 --procs 5000 --iterations 30
"$build/bench/freezr_actions_bench" --iterations 200
"$build/bench/freezr_history_bench" --hours 24
"$build/bench/freezr_http_bench" "$build/freezr" --procs 1000 --seconds 10 --clients 4
"$build/bench/freezr_daemon_cpu_bench" "$build/freezr" --procs 1000 --procs 5000 --interval 3 --interval 1 --seconds 60

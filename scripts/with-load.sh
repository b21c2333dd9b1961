#!/usr/bin/env bash
# Runs a command while N busy loops of its own keep the CPUs busy, then ends them by PID.
#   scripts/with-load.sh N COMMAND [ARGS...]
set -euo pipefail
n=$1
shift
pids=()
cleanup() { ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
for ((i = 0; i < n; i++)); do
  sh -c 'while :; do :; done' &
  pids+=($!)
done
echo "with-load: ${n} burner(s) running (PIDs ${pids[*]})"
"$@"

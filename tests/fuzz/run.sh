#!/usr/bin/env bash
# Builds the parser fuzz target with clang and runs it for a while over a seed corpus made of
# the /proc fixtures. Fails on any crash, leak or undefined behaviour.
#   tests/fuzz/run.sh SOURCE_DIR WORK_DIR SECONDS
set -euo pipefail
src=$1 work=$2 seconds=${3:-20}
mkdir -p "$work/corpus"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$src/src" "$src/tests/fuzz/parsers_fuzz.cpp" "$src/src/proc/parse.cpp" \
  "$src/src/proc/proc_events.cpp" -o "$work/parsers_fuzz"
i=0
for f in $(find "$src/tests/fixtures/proc" -type f); do
  for selector in 0 1 2 3 4 5 6 7 8; do
    { printf "\\x$(printf %02x $selector)"; cat "$f"; } > "$work/corpus/seed-$i-$selector"
  done
  i=$((i + 1))
done
"$work/parsers_fuzz" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$work/corpus"

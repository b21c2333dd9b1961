#!/usr/bin/env bash
# Builds the fuzz targets with clang and runs each for a while: the /proc parsers over a seed
# corpus made of the /proc fixtures, and the outside-facing readers (HTTP targets, times,
# kill-order patterns, configuration files) over the kept corpus in tests/fuzz/corpus/inputs,
# and the ledger reader over the hostile ledger corpus. Fails on any crash, leak or undefined
# behaviour.
#   tests/fuzz/run.sh SOURCE_DIR WORK_DIR SECONDS GENERATED_DIR
set -euo pipefail
src=$1 work=$2 seconds=${3:-20} generated=${4:-}
mkdir -p "$work/corpus"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$src/src" "$src/tests/fuzz/parsers_fuzz.cpp" "$src/src/proc/parse.cpp" \
  "$src/src/proc/proc_events.cpp" -o "$work/parsers_fuzz"
i=0
for f in $(find "$src/tests/fixtures/proc" -type f); do
  for selector in 0 1 2 3 4 5 6 7 8 9 10 11 12; do
    { printf "\\x$(printf %02x $selector)"; cat "$f"; } > "$work/corpus/seed-$i-$selector"
  done
  i=$((i + 1))
done
"$work/parsers_fuzz" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$work/corpus"

[[ -n $generated ]] || exit 0
mkdir -p "$work/inputs-corpus"
cp "$src"/tests/fuzz/corpus/inputs/* "$work/inputs-corpus/"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$src/src" "$src/tests/fuzz/inputs_fuzz.cpp" "$src"/src/config/*.cpp "$src"/src/engine/*.cpp \
  "$src"/src/proc/*.cpp "$src"/src/core/*.cpp "$src"/src/fs/*.cpp "$src/src/serve/http.cpp" \
  "$src/src/serve/admission.cpp" "$src/src/serve/routes.cpp" "$src/src/serve/metrics.cpp" \
  "$src/src/serve/status.cpp" \
  "$src/src/serve/web_config.cpp" "$src"/src/store/*.cpp \
  "$generated/default_config_text.cpp" "$generated/categories_text.cpp" \
  "$generated/systemd_unit_text.cpp" -DTOML_HEADER_ONLY=0 -DFMT_SHARED \
  -ltomlplusplus -lre2 -lyaml-cpp -lcrypt -lsqlite3 -lfmt -o "$work/inputs_fuzz"
"$work/inputs_fuzz" -max_total_time="$seconds" -max_len=2048 -timeout=10 -print_final_stats=1 \
  "$work/inputs-corpus"

# The ledger reader, seeded with the hostile ledger corpus (without its "# expect" lines).
mkdir -p "$work/ledger-corpus"
for f in "$src"/tests/fixtures/hostile/ledger/*.jsonl; do
  tail -n +2 "$f" > "$work/ledger-corpus/$(basename "$f")"
done
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$src/src" "$src/tests/fuzz/ledger_fuzz.cpp" "$src/src/store/ledger.cpp" \
  "$src/src/store/database.cpp" \
  "$src"/src/act/{ledger_entries,cgroups,process_control,priority,systemd}.cpp \
  "$src"/src/proc/*.cpp "$src"/src/core/*.cpp "$src"/src/fs/*.cpp -DFMT_SHARED \
  -lsqlite3 -lsystemd -lfmt -o "$work/ledger_fuzz"
"$work/ledger_fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
  "$work/ledger-corpus"

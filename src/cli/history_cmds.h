// `freezr history | events | stats | export`: read the history file directly (read-only), so
// they work while the daemon runs and after it stopped.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/types.h"
#include "engine/rule.h"

namespace freezr::cli {

struct HistoryQuery {
  std::string data_dir;
  std::optional<std::string> since;  // "1h", a date, Unix seconds
  std::optional<std::string> from, to;
  std::optional<std::string> rule;
  std::optional<std::string> kind;    // events only
  std::string format = "table";       // table, json, csv
  bool minutes = false;               // history: per-minute aggregates
  std::optional<std::string> output;  // export: file
  std::string what = "samples";       // export csv: samples or events
};

// Whether every time of q can be read; prints the first that cannot (a usage error, exit 2).
bool times_readable(const HistoryQuery& q);

int cmd_history(const HistoryQuery& q);
int cmd_events(const HistoryQuery& q);
int cmd_stats(const HistoryQuery& q);
int cmd_export(const HistoryQuery& q);
// `freezr why PID`: every decision about the process with its reason, and what came of it,
// newest first. Exit 1 when the history knows nothing about it.
int cmd_why(const HistoryQuery& q, Pid pid, int limit);

// `freezr suggest`: names that ran hot or big without a rule, each with a rule to paste.
struct SuggestOptions {
  double cpu = 50;       // percent of one core that counts as hot
  double memory = 1024;  // MiB that counts as big
  int limit = 10;
};
// Never suggests a rule for a protected name (protected_names) or for FreezR itself.
int cmd_suggest(const HistoryQuery& q, const SuggestOptions& o,
                const std::vector<engine::Category>& categories,
                const std::vector<std::string>& protected_names);

}  // namespace freezr::cli

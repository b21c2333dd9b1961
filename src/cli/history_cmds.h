// `freezr history | events | stats | export`: read the history file directly (read-only), so
// they work while the daemon runs and after it stopped.
#pragma once

#include <optional>
#include <string>

namespace freezr::cli {

struct HistoryQuery {
  std::string data_dir;
  std::optional<std::string> since;  // "1h", a date, Unix seconds
  std::optional<std::string> from, to;
  std::optional<std::string> rule;
  std::optional<std::string> kind;   // events only
  std::string format = "table";      // table, json, csv
  bool minutes = false;              // history: per-minute aggregates
  std::optional<std::string> output; // export: file
  std::string what = "samples";      // export csv: samples or events
};

int cmd_history(const HistoryQuery& q);
int cmd_events(const HistoryQuery& q);
int cmd_stats(const HistoryQuery& q);
int cmd_export(const HistoryQuery& q);

}  // namespace freezr::cli

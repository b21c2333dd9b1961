// The numbered schema migrations. Migration N (1-based) takes user_version N-1 to N. Never
// edit a released migration; add a new one.
#pragma once

#include <string>
#include <vector>

namespace freezr::store {

inline const std::vector<std::string>& migrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: the ledger of reversible actions in force (freezes, renices, throttles).
      "CREATE TABLE ledger ("
      "  id INTEGER PRIMARY KEY,"
      "  pid INTEGER NOT NULL,"
      "  start_time INTEGER NOT NULL,"
      "  kind TEXT NOT NULL,"
      "  rule TEXT NOT NULL,"
      "  data TEXT NOT NULL,"
      "  applied_at REAL NOT NULL)",
      // 2: history. Samples every scan, per-minute aggregates, events.
      "CREATE TABLE rule_samples (ts REAL NOT NULL, rule TEXT NOT NULL, processes INTEGER NOT NULL,"
      "  cpu REAL NOT NULL, rss_mib REAL NOT NULL, streak INTEGER NOT NULL);"
      "CREATE INDEX rule_samples_ts ON rule_samples (ts);"
      "CREATE INDEX rule_samples_rule_ts ON rule_samples (rule, ts);"
      "CREATE TABLE top_samples (ts REAL NOT NULL, by TEXT NOT NULL, rank INTEGER NOT NULL,"
      "  pid INTEGER NOT NULL, start_time INTEGER NOT NULL, comm TEXT NOT NULL, cpu REAL NOT NULL,"
      "  rss_mib REAL NOT NULL, rule TEXT);"
      "CREATE INDEX top_samples_ts ON top_samples (ts);"
      "CREATE TABLE system_samples (ts REAL PRIMARY KEY, load1 REAL, mem_used_percent REAL,"
      "  mem_available_mib REAL, swap_free_mib REAL, psi_some_avg10 REAL, psi_full_avg10 REAL,"
      "  processes INTEGER);"
      "CREATE TABLE rule_minutes (minute INTEGER NOT NULL, rule TEXT NOT NULL,"
      "  samples INTEGER NOT NULL, cpu_min REAL, cpu_avg REAL, cpu_max REAL, rss_min REAL,"
      "  rss_avg REAL, rss_max REAL, processes_max INTEGER, PRIMARY KEY (minute, rule));"
      "CREATE TABLE events (id INTEGER PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL,"
      "  rule TEXT, pid INTEGER, comm TEXT, action TEXT, ok INTEGER, message TEXT, data TEXT);"
      "CREATE INDEX events_ts ON events (ts)",
      // 3: `freezr why PID` reads every event about one PID.
      "CREATE INDEX events_pid_ts ON events (pid, ts)",
  };
  return kMigrations;
}

}  // namespace freezr::store

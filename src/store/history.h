// History: what FreezR saw and did, in SQLite. Writing (one transaction per scan, prepared
// statements reused) and the read-only queries behind `freezr history|events|stats|export` and
// the HTTP API.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/types.h"
#include "store/database.h"

namespace freezr::store {

struct RuleSample {
  std::string rule;
  std::int64_t processes = 0;
  double cpu = 0;      // percent of one core, summed over the rule's processes
  double rss_mib = 0;  // summed
  std::int64_t streak = 0;
};

struct TopSample {
  std::string by;  // "cpu" or "memory"
  int rank = 0;
  ProcessId id;
  std::string comm;
  double cpu = 0;
  double rss_mib = 0;
  std::string rule;  // empty when under no rule
};

struct SystemSample {
  std::optional<double> load1, mem_used_percent, mem_available_mib, swap_free_mib;
  std::optional<double> psi_some_avg10, psi_full_avg10;
  std::int64_t processes = 0;
};

struct Event {
  double ts = 0;
  // "violation", "action", "pressure", "prediction", "lifecycle", or "decision" (every
  // decision about a process, with its reason: what `freezr why` reads)
  std::string kind;
  std::string rule;
  Pid pid = 0;
  std::string comm;
  std::string action;
  std::optional<bool> ok;
  std::string message;
  std::string data;  // a JSON object with the figures behind a decision, or empty
};

struct Retention {
  double raw_seconds = 48 * 3600.0;
  double minutes_seconds = 30 * 86400.0;
  double events_seconds = 90 * 86400.0;
};

class History {
 public:
  explicit History(Database& db) : db_(db) {}

  // Writes one scan: samples (unless with_samples is false), the minute aggregates, and the
  // events, in one transaction (rolled back on error).
  Result<void> record(double ts, const std::vector<RuleSample>& rules,
                      const std::vector<TopSample>& top, const SystemSample& system,
                      bool with_samples, const std::vector<Event>& events);
  // Deletes what is older than the retention allows.
  Result<void> prune(double now, const Retention& r);

 private:
  Database& db_;
};

// --- queries (read-only) ---

struct SampleRow {
  double ts = 0;  // scan time, or minute start for aggregates
  std::string rule;
  std::int64_t processes = 0;
  double cpu = 0, cpu_max = 0;
  double rss_mib = 0, rss_max = 0;
};

// One page of a query: at most limit rows (0: all of them) after the previous page's cursor,
// oldest first or, with newest_first, newest first. Cursors are row ids: rows are written in
// time order, so a page never repeats or skips a row whatever is written meanwhile.
struct Page {
  int limit = 0;
  std::int64_t cursor = 0;  // 0: from the start
  bool newest_first = false;
};

// Per-scan samples in [from, to], or per-minute averages with maxima when minutes is true.
// With page.limit, *next (when given) is the cursor of the next page, 0 after the last.
std::vector<SampleRow> query_samples(Database& db, double from, double to,
                                     const std::optional<std::string>& rule, bool minutes,
                                     const Page& page = {}, std::int64_t* next = nullptr);
struct SystemRow {
  double ts = 0;  // scan time, or minute start for aggregates
  std::optional<double> load1, mem_used_percent, mem_available_mib, psi_some_avg10, psi_full_avg10;
};
// The system's samples in [from, to], or their per-minute averages when minutes is true;
// paged as query_samples.
std::vector<SystemRow> query_system(Database& db, double from, double to, bool minutes,
                                    const Page& page = {}, std::int64_t* next = nullptr);
// Events in [from, to], oldest first. Without a kind, decisions are left out (they are the
// detail behind the actions; ask for kind "decision" to see them).
std::vector<Event> query_events(Database& db, double from, double to,
                                const std::optional<std::string>& rule,
                                const std::optional<std::string>& kind, const Page& page = {},
                                std::int64_t* next = nullptr);
// Everything about one PID (decisions with their reasons, outcomes, violations, pressure
// kills), newest first; at most limit.
std::vector<Event> query_why(Database& db, Pid pid, int limit);

struct RuleStats {
  std::string rule;
  std::int64_t samples = 0;
  double cpu_avg = 0, cpu_max = 0, rss_avg = 0, rss_max = 0;
  std::int64_t violations = 0, actions = 0, failed = 0;
};
std::vector<RuleStats> query_stats(Database& db, double from, double to);

// A process name that ran hot or big without any rule, from the top samples.
struct Unruled {
  std::string comm;
  std::int64_t full_scans = 0;  // scans with top samples in the period
  std::int64_t hot = 0;         // of them, scans where it was at or above the CPU mark
  double cpu_avg_hot = 0, cpu_max = 0;
  std::int64_t big = 0;  // scans where it was at or above the memory mark
  double rss_max = 0;
  std::int64_t processes = 0;  // distinct processes (PID and start time)
  double first = 0, last = 0;
};
// Names most often hot (CPU% >= cpu) or big (RSS >= memory_mib) without a rule, most often
// first; at most limit.
std::vector<Unruled> query_unruled(Database& db, double from, double to, double cpu,
                                   double memory_mib, int limit);

}  // namespace freezr::store

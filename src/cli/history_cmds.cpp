#include "cli/history_cmds.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/table.h"
#include "config/config.h"
#include "core/text.h"
#include "core/timespec.h"
#include "engine/classifier.h"
#include "store/history.h"

namespace freezr::cli {

using nlohmann::ordered_json;

namespace {

double now_wall() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string local_time(double ts) {
  const auto t = static_cast<std::time_t>(ts);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

struct Opened {
  std::unique_ptr<store::Database> db;
  double from = 0, to = 0;
};

}  // namespace

bool times_readable(const HistoryQuery& q) {
  for (const auto* text : {&q.since, &q.from, &q.to}) {
    if (*text && !parse_time(**text, now_wall())) {
      fmt::print(stderr,
                 "freezr: cannot read the time '{}' (use 90s, 15m, 2h, -1h, @EPOCH, Unix "
                 "seconds, today, yesterday, YYYY-MM-DD[ HH:MM[:SS]] or RFC 3339 such as "
                 "2026-12-01T10:00:00Z)\n",
                 **text);
      return false;
    }
  }
  return true;
}

namespace {

// Opens the history read-only and resolves the period (whose times times_readable checked);
// prints the error and returns nullopt.
std::optional<Opened> open(const HistoryQuery& q, double default_seconds) {
  const std::string path = q.data_dir + "/freezr.db";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    fmt::print(stderr, "freezr: no history at {}\n", path);
    return std::nullopt;
  }
  auto db = store::Database::open(path, true, nullptr);
  if (!db) {
    fmt::print(stderr, "freezr: {}\n", db.error().message);
    return std::nullopt;
  }
  const double now = now_wall();
  Opened o{std::move(db).value(), now - default_seconds, now + 1};
  for (const auto& [text, into] :
       {std::pair{&q.since, &o.from}, {&q.from, &o.from}, {&q.to, &o.to}}) {
    if (*text) *into = *parse_time(**text, now);  // readable: times_readable said so
  }
  return o;
}

// Rows are built with Unix seconds in their first cell; this writes it as people read it in a
// table (local time), and for programs (json, csv) as RFC 3339 with its offset, with the Unix
// seconds in a last column "ts".
Table& with_times(Table& t, const std::string& format) {
  if (format != "table") t.headers.emplace_back("ts");
  for (auto& row : t.rows) {
    const double ts = row[0].get<double>();
    row[0] = format == "table" ? local_time(ts) : rfc3339(ts, true);
    if (format != "table") row.emplace_back(ts);
  }
  return t;
}

Table samples_table(store::Database& db, double from, double to, const HistoryQuery& q) {
  Table t;
  t.headers = {"time", "rule", "processes", "cpu_percent", "cpu_max", "rss_mib", "rss_max"};
  for (const auto& s : store::query_samples(db, from, to, q.rule, q.minutes)) {
    t.rows.push_back({s.ts, s.rule, s.processes, s.cpu, s.cpu_max, s.rss_mib, s.rss_max});
  }
  return with_times(t, q.format);
}

Table events_table(store::Database& db, double from, double to, const HistoryQuery& q) {
  Table t;
  t.headers = {"time", "kind", "rule", "pid", "name", "action", "ok", "message"};
  for (const auto& e : store::query_events(db, from, to, q.rule, q.kind)) {
    t.rows.push_back({e.ts, e.kind, e.rule, e.pid, e.comm, e.action,
                      e.ok ? ordered_json(*e.ok) : ordered_json(nullptr), e.message});
  }
  return with_times(t, q.format);
}

bool write_out(const HistoryQuery& q, const std::string& text) {
  if (!q.output) {
    fmt::print("{}", text);
    return true;
  }
  std::ofstream out(*q.output, std::ios::trunc);
  out << text;
  if (!out) {
    fmt::print(stderr, "freezr: cannot write {}\n", *q.output);
    return false;
  }
  return true;
}

}  // namespace

int cmd_history(const HistoryQuery& q) {
  auto o = open(q, 3600);
  if (!o) return 1;
  return write_out(q, render(samples_table(*o->db, o->from, o->to, q), q.format)) ? 0 : 1;
}

int cmd_events(const HistoryQuery& q) {
  auto o = open(q, 86400);
  if (!o) return 1;
  return write_out(q, render(events_table(*o->db, o->from, o->to, q), q.format)) ? 0 : 1;
}

int cmd_why(const HistoryQuery& q, Pid pid, int limit) {
  auto o = open(q, 0);
  if (!o) return 1;
  const auto rows = store::query_why(*o->db, pid, limit);
  if (rows.empty()) {
    fmt::print(stderr, "freezr: the history has nothing about PID {}\n", pid);
    return 1;
  }
  Table t;
  t.headers = {"time", "kind", "rule", "name", "action", "ok", "reason"};
  for (const auto& e : rows) {
    t.rows.push_back({e.ts, e.kind, e.rule, e.comm, e.action,
                      e.ok ? ordered_json(*e.ok) : ordered_json(nullptr), e.message});
  }
  with_times(t, q.format);
  if (q.format == "table") {
    fmt::print("What FreezR decided about PID {}, newest first:\n", pid);
  }
  return write_out(q, render(t, q.format)) ? 0 : 1;
}

int cmd_stats(const HistoryQuery& q) {
  auto o = open(q, 3600);
  if (!o) return 1;
  Table t;
  t.headers = {"rule",        "samples",    "cpu_avg", "cpu_max", "rss_avg_mib",
               "rss_max_mib", "violations", "actions", "failed"};
  for (const auto& s : store::query_stats(*o->db, o->from, o->to)) {
    t.rows.push_back({s.rule, s.samples, s.cpu_avg, s.cpu_max, s.rss_avg, s.rss_max, s.violations,
                      s.actions, s.failed});
  }
  if (q.format == "table") {
    fmt::print("FreezR statistics from {} to {}\n", local_time(o->from), local_time(o->to));
  }
  return write_out(q, render(t, q.format)) ? 0 : 1;
}

int cmd_export(const HistoryQuery& q) {
  auto o = open(q, 86400);
  if (!o) return 1;
  if (q.format == "json") {
    const auto samples = samples_table(*o->db, o->from, o->to, q);
    const auto events = events_table(*o->db, o->from, o->to, q);
    const std::string text = "{\"samples\": " + render(samples, "json") +
                             ", \"events\": " + render(events, "json") + "}\n";
    return write_out(q, text) ? 0 : 1;
  }
  const auto table = q.what == "events" ? events_table(*o->db, o->from, o->to, q)
                                        : samples_table(*o->db, o->from, o->to, q);
  return write_out(q, render(table, "csv")) ? 0 : 1;
}

namespace {

// What a name alone tells: no command line or executable is kept in the history.
class NameOnly final : public proc::InfoSource {
 public:
  const std::string& cmdline(const ProcessId&) override { return empty_; }
  const std::string& exe(const ProcessId&) override { return empty_; }
  std::optional<std::uint32_t> uid(const ProcessId&) override { return std::nullopt; }
  std::shared_ptr<const proc::Placement> placement(const ProcessId&) override { return nowhere_; }
  void forget(const ProcessId&) override {}

 private:
  std::string empty_;
  std::shared_ptr<const proc::Placement> nowhere_ = std::make_shared<proc::Placement>();
};

// A gentle rule for what was seen: renice when hot, log when big, each threshold a quarter
// above what was measured (rounded up), so that the rule fires on the bad days, not every day.
// margins: one comment line per threshold saying so.
engine::Rule suggested_rule(const store::Unruled& u, const SuggestOptions& o,
                            std::string& margins) {
  engine::Rule r;
  r.name = u.comm;
  r.match.comm = {u.comm};
  engine::Step s;
  s.violations = 5;
  if (u.hot > 0) {
    const double cpu = std::max(o.cpu, std::ceil(u.cpu_avg_hot * 1.25 / 5) * 5);
    s.cpu_percent = cpu;
    s.action.kind = engine::ActionKind::kRenice;
    s.action.nice = 10;
    margins += fmt::format(
        "# cpu_percent = {:g}: {:.0f}% above its average of {:.1f}% while hot (max {:.1f}%)\n", cpu,
        (cpu / u.cpu_avg_hot - 1) * 100, u.cpu_avg_hot, u.cpu_max);
  }
  if (u.big > 0) {
    const double mem = std::ceil(u.rss_max * 1.25 / 64) * 64;
    s.memory_mb = mem;
    s.predict_minutes = 10;
    margins += fmt::format("# memory_mb = {:g}: {:.0f}% above the most it used ({:.1f} MiB)\n", mem,
                           (mem / u.rss_max - 1) * 100, u.rss_max);
  }
  r.steps.push_back(s);
  return r;
}

// FreezR's own names (the binary and its process-monitor link): a rule could never act on it.
bool is_freezr(const std::string& comm) { return comm == "freezr" || comm == "process-monitor"; }

}  // namespace

int cmd_suggest(const HistoryQuery& q, const SuggestOptions& o,
                const std::vector<engine::Category>& categories,
                const std::vector<std::string>& protected_names) {
  auto opened = open(q, 86400);
  if (!opened) return 1;
  // Asked for more than the limit: the protected names found are left out afterwards.
  auto found = store::query_unruled(*opened->db, opened->from, opened->to, o.cpu, o.memory,
                                    o.limit + static_cast<int>(protected_names.size()) + 2);
  std::vector<std::string> left_out;
  std::erase_if(found, [&](const store::Unruled& u) {
    const bool out = is_freezr(u.comm) || std::find(protected_names.begin(), protected_names.end(),
                                                    u.comm) != protected_names.end();
    if (out) left_out.push_back(terminal_safe(u.comm));
    return out;
  });
  if (found.size() > static_cast<std::size_t>(o.limit)) {
    found.resize(static_cast<std::size_t>(o.limit));
  }
  fmt::print(
      "# From the history, {} to {}: processes without a rule that reached {:g}% CPU or "
      "{:g} MiB.\n",
      local_time(opened->from), local_time(opened->to), o.cpu, o.memory);
  if (!left_out.empty()) {
    fmt::print("# Left out, as FreezR never acts on them (FreezR itself, or protected): {}\n",
               fmt::join(left_out, ", "));
  }
  if (found.empty()) {
    fmt::print("# None: every process that ran hot or big is under a rule already.\n");
    return 0;
  }
  NameOnly info;
  for (const auto& u : found) {
    std::string figures;
    if (u.hot > 0) {
      figures += fmt::format("hot in {} of {} recorded scans (avg {:.1f}%, max {:.1f}% CPU)", u.hot,
                             u.full_scans, u.cpu_avg_hot, u.cpu_max);
    }
    if (u.big > 0) {
      figures += fmt::format("{}big in {} of {} scans (max {:.1f} MiB)",
                             figures.empty() ? "" : "; ", u.big, u.full_scans, u.rss_max);
    }
    engine::ProcessSample p;
    p.comm = u.comm;
    const int cat = engine::categorize(categories, p, info);
    fmt::print("\n# {}: {}; {} process{}, seen {} – {}\n", terminal_safe(u.comm), figures,
               u.processes, u.processes == 1 ? "" : "es", local_time(u.first), local_time(u.last));
    if (cat >= 0) {
      const auto& name = categories[static_cast<std::size_t>(cat)].name;
      fmt::print(
          "# category '{}': to cover all of it, use match = {{ category = \"{}\" }} with "
          "aggregate = \"group\"\n",
          name, name);
    }
    if (!valid_utf8(u.comm)) {
      fmt::print("# its name is not UTF-8, which TOML cannot hold: match it by exe or cmdline\n");
      continue;
    }
    std::string margins;
    const auto rule = suggested_rule(u, o, margins);
    fmt::print("{}{}", margins, config::render_rule(rule).substr(1));
  }
  return 0;
}

}  // namespace freezr::cli

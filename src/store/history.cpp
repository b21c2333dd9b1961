#include "store/history.h"

#include <cmath>
#include <functional>
#include <map>

namespace freezr::store {
namespace {

void bind_opt(Statement& st, int i, const std::optional<double>& v) {
  if (v) {
    st.bind(i, *v);
  } else {
    st.bind_null(i);
  }
}

// Runs st and returns its error (resets it).
std::string run(Statement& st) { return st.run() ? std::string() : st.error(); }

}  // namespace

Result<void> History::record(double ts, const std::vector<RuleSample>& rules,
                             const std::vector<TopSample>& top, const SystemSample& system,
                             bool with_samples, const std::vector<Event>& events) {
  if (auto err = db_.exec("BEGIN"); !err.empty()) return error_of(ErrorKind::kIo, err);
  std::string err;
  if (with_samples) {
    auto& rs = db_.prepare(
        "INSERT INTO rule_samples (ts, rule, processes, cpu, rss_mib, streak) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    auto& minute = db_.prepare(
        "INSERT INTO rule_minutes (minute, rule, samples, cpu_min, cpu_avg, cpu_max, rss_min, "
        "rss_avg, rss_max, processes_max) VALUES (?1, ?2, 1, ?3, ?3, ?3, ?4, ?4, ?4, ?5) "
        "ON CONFLICT (minute, rule) DO UPDATE SET samples = samples + 1, "
        "cpu_min = min(cpu_min, ?3), cpu_max = max(cpu_max, ?3), "
        "cpu_avg = (cpu_avg * samples + ?3) / (samples + 1), rss_min = min(rss_min, ?4), "
        "rss_max = max(rss_max, ?4), rss_avg = (rss_avg * samples + ?4) / (samples + 1), "
        "processes_max = max(processes_max, ?5)");
    const auto min = static_cast<std::int64_t>(std::floor(ts / 60.0));
    for (const auto& r : rules) {
      rs.bind(1, ts).bind(2, r.rule).bind(3, r.processes).bind(4, r.cpu).bind(5, r.rss_mib);
      rs.bind(6, r.streak);
      if (err.empty()) err = run(rs);
      minute.bind(1, min).bind(2, r.rule).bind(3, r.cpu).bind(4, r.rss_mib).bind(5, r.processes);
      if (err.empty()) err = run(minute);
    }
    auto& ts_st = db_.prepare(
        "INSERT INTO top_samples (ts, by, rank, pid, start_time, comm, cpu, rss_mib, rule) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& t : top) {
      ts_st.bind(1, ts).bind(2, t.by).bind(3, static_cast<std::int64_t>(t.rank));
      ts_st.bind(4, static_cast<std::int64_t>(t.id.pid));
      ts_st.bind(5, static_cast<std::int64_t>(t.id.start_time)).bind(6, t.comm);
      ts_st.bind(7, t.cpu).bind(8, t.rss_mib);
      if (t.rule.empty()) {
        ts_st.bind_null(9);
      } else {
        ts_st.bind(9, t.rule);
      }
      if (err.empty()) err = run(ts_st);
    }
    auto& sys = db_.prepare(
        "INSERT OR REPLACE INTO system_samples (ts, load1, mem_used_percent, mem_available_mib, "
        "swap_free_mib, psi_some_avg10, psi_full_avg10, processes) VALUES (?, ?, ?, ?, ?, ?, ?, "
        "?)");
    sys.bind(1, ts);
    bind_opt(sys, 2, system.load1);
    bind_opt(sys, 3, system.mem_used_percent);
    bind_opt(sys, 4, system.mem_available_mib);
    bind_opt(sys, 5, system.swap_free_mib);
    bind_opt(sys, 6, system.psi_some_avg10);
    bind_opt(sys, 7, system.psi_full_avg10);
    sys.bind(8, system.processes);
    if (err.empty()) err = run(sys);
  }
  auto& ev = db_.prepare(
      "INSERT INTO events (ts, kind, rule, pid, comm, action, ok, message, data) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const auto& e : events) {
    ev.bind(1, e.ts).bind(2, e.kind).bind(3, e.rule).bind(4, static_cast<std::int64_t>(e.pid));
    ev.bind(5, e.comm).bind(6, e.action);
    if (e.ok) {
      ev.bind(7, static_cast<std::int64_t>(*e.ok ? 1 : 0));
    } else {
      ev.bind_null(7);
    }
    ev.bind(8, e.message);
    if (e.data.empty()) {
      ev.bind_null(9);
    } else {
      ev.bind(9, e.data);
    }
    if (err.empty()) err = run(ev);
  }
  if (err.empty()) err = db_.exec("COMMIT");
  if (!err.empty()) {
    db_.exec("ROLLBACK");
    return error_of(ErrorKind::kIo, err);
  }
  return {};
}

Result<void> History::prune(double now, const Retention& r) {
  const std::string raw = std::to_string(now - r.raw_seconds);
  const std::string minutes =
      std::to_string(static_cast<std::int64_t>((now - r.minutes_seconds) / 60));
  const std::string events = std::to_string(now - r.events_seconds);
  const auto err = db_.exec("BEGIN; DELETE FROM rule_samples WHERE ts < " + raw +
                            "; DELETE FROM top_samples WHERE ts < " + raw +
                            "; DELETE FROM system_samples WHERE ts < " + raw +
                            "; DELETE FROM rule_minutes WHERE minute < " + minutes +
                            "; DELETE FROM events WHERE ts < " + events + "; COMMIT;");
  if (!err.empty()) {
    db_.exec("ROLLBACK");
    return error_of(ErrorKind::kIo, err);
  }
  return {};
}

namespace {
// The ordering and paging clauses of a query whose rows have the row id column id_column.
std::string paged(const Page& page, const char* id_column, const std::string& order) {
  std::string sql;
  if (page.cursor > 0) {
    sql += std::string(" AND ") + id_column + (page.newest_first ? " < " : " > ") +
           std::to_string(page.cursor);
  }
  if (page.limit <= 0) return sql + " ORDER BY " + order;
  return sql + " ORDER BY " + id_column + (page.newest_first ? " DESC" : "") + " LIMIT " +
         std::to_string(page.limit + 1);  // one more says whether a next page exists
}

// Trims rows to the page and gives the next page's cursor (0 after the last).
template <typename Row>
std::int64_t trim_page(std::vector<Row>& rows, std::vector<std::int64_t>& ids, const Page& page) {
  if (page.limit <= 0 || rows.size() <= static_cast<std::size_t>(page.limit)) return 0;
  rows.resize(static_cast<std::size_t>(page.limit));
  return ids[static_cast<std::size_t>(page.limit) - 1];
}
// The rows of a paged statement (read by read_row), trimmed to the page; *next (when given)
// becomes the next page's cursor, from the statement's id_column.
template <typename Row, typename ReadRow>
std::vector<Row> read_page(Statement& st, int id_column, const Page& page, std::int64_t* next,
                           ReadRow read_row) {
  std::vector<Row> out;
  std::vector<std::int64_t> ids;
  while (st.step()) {
    out.push_back(read_row());
    ids.push_back(st.int64(id_column));
  }
  const auto after = trim_page(out, ids, page);
  if (next != nullptr) *next = after;
  return out;
}
}  // namespace

std::vector<SampleRow> query_samples(Database& db, double from, double to,
                                     const std::optional<std::string>& rule, bool minutes,
                                     const Page& page, std::int64_t* next) {
  const std::string sql =
      minutes ? "SELECT minute * 60.0, rule, processes_max, cpu_avg, cpu_max, rss_avg, rss_max, "
                "rowid FROM rule_minutes WHERE minute * 60.0 >= ?1 AND minute * 60.0 <= ?2 "
                "AND (?3 IS NULL OR rule = ?3)" +
                    paged(page, "rowid", "minute, rule")
              : "SELECT ts, rule, processes, cpu, cpu, rss_mib, rss_mib, rowid FROM rule_samples "
                "WHERE ts >= ?1 AND ts <= ?2 AND (?3 IS NULL OR rule = ?3)" +
                    paged(page, "rowid", "ts, rule");
  Statement st(db.handle(), sql);
  st.bind(1, from).bind(2, to);
  if (rule) {
    st.bind(3, *rule);
  } else {
    st.bind_null(3);
  }
  return read_page<SampleRow>(st, 7, page, next, [&st] {
    return SampleRow{st.real(0), st.text(1), st.int64(2), st.real(3),
                     st.real(4), st.real(5), st.real(6)};
  });
}

std::vector<SystemRow> query_system(Database& db, double from, double to, bool minutes,
                                    const Page& page, std::int64_t* next) {
  // Per minute, the page's rows are keyed by the minute itself.
  const std::string sql =
      minutes ? "SELECT CAST(ts / 60 AS INTEGER) * 60.0, avg(load1), avg(mem_used_percent), "
                "avg(mem_available_mib), avg(psi_some_avg10), avg(psi_full_avg10), "
                "CAST(ts / 60 AS INTEGER) AS m FROM system_samples WHERE ts >= ?1 AND ts <= ?2 "
                "GROUP BY m HAVING 1" +
                    paged(page, "m", "m")
              : "SELECT ts, load1, mem_used_percent, mem_available_mib, psi_some_avg10, "
                "psi_full_avg10, rowid FROM system_samples WHERE ts >= ?1 AND ts <= ?2" +
                    paged(page, "rowid", "ts");
  Statement st(db.handle(), sql);
  st.bind(1, from).bind(2, to);
  const auto opt = [&st](int i) {
    return st.is_null(i) ? std::nullopt : std::optional<double>(st.real(i));
  };
  return read_page<SystemRow>(st, 6, page, next, [&] {
    return SystemRow{st.real(0), opt(1), opt(2), opt(3), opt(4), opt(5)};
  });
}

namespace {
constexpr const char* kEventColumns =
    "SELECT ts, kind, rule, pid, comm, action, ok, message, data, id FROM events ";

std::vector<Event> read_events(Statement& st, std::vector<std::int64_t>* ids = nullptr) {
  std::vector<Event> out;
  while (st.step()) {
    Event e;
    e.ts = st.real(0);
    e.kind = st.text(1);
    e.rule = st.text(2);
    e.pid = static_cast<Pid>(st.int64(3));
    e.comm = st.text(4);
    e.action = st.text(5);
    if (!st.is_null(6)) e.ok = st.int64(6) != 0;
    e.message = st.text(7);
    if (!st.is_null(8)) e.data = st.text(8);
    if (ids != nullptr) ids->push_back(st.int64(9));
    out.push_back(std::move(e));
  }
  return out;
}
}  // namespace

std::vector<Event> query_events(Database& db, double from, double to,
                                const std::optional<std::string>& rule,
                                const std::optional<std::string>& kind, const Page& page,
                                std::int64_t* next) {
  Statement st(db.handle(), std::string(kEventColumns) +
                                "WHERE ts >= ?1 AND ts <= ?2 AND (?3 IS NULL OR rule = ?3) "
                                "AND (?4 IS NULL AND kind != 'decision' OR kind = ?4)" +
                                paged(page, "id", "ts, id"));
  st.bind(1, from).bind(2, to);
  if (rule)
    st.bind(3, *rule);
  else
    st.bind_null(3);
  if (kind)
    st.bind(4, *kind);
  else
    st.bind_null(4);
  std::vector<std::int64_t> ids;
  auto out = read_events(st, &ids);
  const auto after = trim_page(out, ids, page);
  if (next != nullptr) *next = after;
  return out;
}

std::vector<Event> query_why(Database& db, Pid pid, int limit) {
  Statement st(db.handle(), std::string(kEventColumns) +
                                "WHERE pid = ?1 AND kind != 'lifecycle' ORDER BY ts DESC, id DESC "
                                "LIMIT ?2");
  st.bind(1, static_cast<std::int64_t>(pid)).bind(2, std::int64_t{limit});
  return read_events(st);
}

namespace {
// Runs a per-rule query over [from, to]; fill reads each row into its rule's statistics.
void per_rule(Database& db, const char* sql, double from, double to,
              std::map<std::string, RuleStats>& by_rule,
              const std::function<void(Statement&, RuleStats&)>& fill) {
  Statement st(db.handle(), sql);
  st.bind(1, from).bind(2, to);
  while (st.step()) {
    auto& r = by_rule[st.text(0)];
    r.rule = st.text(0);
    fill(st, r);
  }
}
}  // namespace

std::vector<RuleStats> query_stats(Database& db, double from, double to) {
  std::map<std::string, RuleStats> by_rule;
  per_rule(db,
           "SELECT rule, count(*), avg(cpu), max(cpu), avg(rss_mib), max(rss_mib) "
           "FROM rule_samples WHERE ts >= ?1 AND ts <= ?2 GROUP BY rule",
           from, to, by_rule, [](Statement& st, RuleStats& r) {
             r.samples = st.int64(1);
             r.cpu_avg = st.real(2);
             r.cpu_max = st.real(3);
             r.rss_avg = st.real(4);
             r.rss_max = st.real(5);
           });
  per_rule(db,
           "SELECT rule, sum(kind = 'violation' AND message LIKE 'started%'), "
           "sum(kind = 'action' AND ok = 1), sum(kind = 'action' AND ok = 0) "
           "FROM events WHERE ts >= ?1 AND ts <= ?2 AND rule != '' GROUP BY rule",
           from, to, by_rule, [](Statement& st, RuleStats& r) {
             r.violations = st.int64(1);
             r.actions = st.int64(2);
             r.failed = st.int64(3);
           });
  std::vector<RuleStats> out;
  for (auto& [k, v] : by_rule) out.push_back(v);
  return out;
}

std::vector<Unruled> query_unruled(Database& db, double from, double to, double cpu,
                                   double memory_mib, int limit) {
  Statement scans(db.handle(),
                  "SELECT count(DISTINCT ts) FROM top_samples WHERE ts >= ?1 AND ts <= ?2");
  scans.bind(1, from).bind(2, to);
  const std::int64_t full_scans = scans.step() ? scans.int64(0) : 0;
  // One row per scan and process: a process can be in both top lists of a scan.
  Statement s(db.handle(),
              "WITH per_scan AS ("
              "  SELECT ts, comm, pid, start_time, max(cpu) AS cpu, max(rss_mib) AS rss "
              "  FROM top_samples WHERE ts >= ?1 AND ts <= ?2 AND rule IS NULL "
              "  GROUP BY ts, pid, start_time) "
              "SELECT comm, count(DISTINCT CASE WHEN cpu >= ?3 THEN ts END), "
              "  avg(CASE WHEN cpu >= ?3 THEN cpu END), max(cpu), "
              "  count(DISTINCT CASE WHEN rss >= ?4 THEN ts END), max(rss), "
              "  count(DISTINCT pid || ':' || start_time), min(ts), max(ts) "
              "FROM per_scan WHERE comm != '' GROUP BY comm "
              "HAVING max(cpu) >= ?3 OR max(rss) >= ?4 "
              "ORDER BY count(DISTINCT CASE WHEN cpu >= ?3 OR rss >= ?4 THEN ts END) DESC, comm "
              "LIMIT ?5");
  s.bind(1, from).bind(2, to).bind(3, cpu).bind(4, memory_mib).bind(5, std::int64_t{limit});
  std::vector<Unruled> out;
  while (s.step()) {
    Unruled u;
    u.comm = s.text(0);
    u.full_scans = full_scans;
    u.hot = s.int64(1);
    u.cpu_avg_hot = s.is_null(2) ? 0 : s.real(2);
    u.cpu_max = s.real(3);
    u.big = s.int64(4);
    u.rss_max = s.real(5);
    u.processes = s.int64(6);
    u.first = s.real(7);
    u.last = s.real(8);
    out.push_back(std::move(u));
  }
  return out;
}

}  // namespace freezr::store

#include "serve/routes.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <variant>

#include "core/text.h"
#include "core/timespec.h"
#include "serve/metrics.h"
#include "serve/status.h"
#include "store/history.h"

namespace freezr::serve {

using nlohmann::json;

bool authorized(const std::string& authorization, const std::string& token) {
  const std::string prefix = "Bearer ";
  if (token.empty() || authorization.rfind(prefix, 0) != 0) return false;
  return constant_time_equal(std::string_view(authorization).substr(prefix.size()), token);
}

namespace {

Response ok_json(const json& j) {
  Response r;
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

std::optional<std::string> param(const Request& r, const std::string& key) {
  auto it = r.query.find(key);
  return it == r.query.end() ? std::nullopt : std::optional<std::string>(it->second);
}

// A positive whole number parameter, or fallback when absent; a parse error when malformed.
Result<long> number_of(const Request& r, const std::string& key, long fallback, long max) {
  auto v = param(r, key);
  if (!v) return fallback;
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno != 0 || n <= 0) {
    return parse_error(key + " must be a positive number");
  }
  return std::min(n, max);
}

Result<long> limit_of(const Request& r, long fallback) {
  return number_of(r, "limit", fallback, 100000);
}

// A time parameter in any form parse_time reads, or fallback when absent.
Result<double> time_of(const Request& r, const char* key, double fallback, double now) {
  auto v = param(r, key);
  if (!v) return fallback;
  auto t = parse_time(*v, now);
  if (!t) {
    return parse_error(std::string(key) +
                       ": expected 90s, 15m, 2h, -1h, @EPOCH, Unix seconds, today, yesterday, "
                       "a date or RFC 3339");
  }
  return *t;
}

// The period of a list: since (default: fallback_seconds ago) to until (default: now).
Result<std::pair<double, double>> period_of(const Request& r, const ApiContext& ctx,
                                            double fallback_seconds) {
  const double now = ctx.now();
  const auto since = time_of(r, "since", now - fallback_seconds, now);
  if (!since) return since.error();
  const auto until = time_of(r, "until", now + 1, now);
  if (!until) return until.error();
  return std::pair{*since, *until};
}

Response bad_request(const Error& e) { return json_error(400, e.message); }

// limit (at most kMaxPage rows, default_limit when absent), cursor and order of a paged list.
constexpr long kMaxPage = 10000;
Result<store::Page> page_of(const Request& r, long default_limit) {
  store::Page page;
  const auto limit = number_of(r, "limit", default_limit, kMaxPage);
  if (!limit) return limit.error();
  page.limit = static_cast<int>(*limit);
  const auto cursor = number_of(r, "cursor", 0, std::numeric_limits<long>::max());
  if (!cursor) return cursor.error();
  page.cursor = *cursor;
  const auto order = param(r, "order").value_or("asc");
  if (order != "asc" && order != "desc") return parse_error("order must be asc or desc");
  page.newest_first = order == "desc";
  return page;
}

json next_of(std::int64_t next) { return next > 0 ? json(std::to_string(next)) : json(nullptr); }

// A figure rounded to `digits` decimals, or null when it was not measured.
json maybe(const std::optional<double>& v, int digits) {
  if (!v) return nullptr;
  const double scale = std::pow(10.0, digits);
  return std::round(*v * scale) / scale;
}

Response processes(const Request& r, const State& s) {
  if (!s.listed) {
    return json_error(503, "the process table is matched against the new rules at the next scan");
  }
  const auto sort = param(r, "sort").value_or("cpu");
  if (sort != "cpu" && sort != "mem") return json_error(400, "sort must be cpu or mem");
  const auto rule = param(r, "rule");
  const auto category = param(r, "category");
  const auto unit = param(r, "unit");
  const auto in_unit = [&](const ProcessRow& p) {
    return !unit || (p.place && p.place->in_unit(*unit));
  };
  std::vector<const ProcessRow*> rows;
  for (const auto& p : s.processes) {
    if ((!rule || p.rule == *rule) && (!category || p.category == *category) && in_unit(p)) {
      rows.push_back(&p);
    }
  }
  std::sort(rows.begin(), rows.end(), [&](auto a, auto b) {
    return sort == "mem" ? a->rss_mib > b->rss_mib : a->cpu > b->cpu;
  });
  const auto limit = limit_of(r, 50);
  if (!limit) return bad_request(limit.error());
  const auto n = std::min(rows.size(), static_cast<std::size_t>(*limit));
  json out = json::array();
  for (std::size_t i = 0; i < n; ++i) {
    const auto* p = rows[i];
    out.push_back({{"pid", p->pid},
                   {"name", p->comm},
                   {"cpu_percent", std::round(p->cpu * 10) / 10},
                   {"rss_mib", std::round(p->rss_mib * 10) / 10},
                   {"rss_bytes", static_cast<std::uint64_t>(p->rss_mib * 1048576.0)},
                   {"rule", p->rule},
                   {"streak", p->streak},
                   {"category", p->category},
                   {"io_read_bps", maybe(p->io_read_bps, 0)},
                   {"io_write_bps", maybe(p->io_write_bps, 0)},
                   {"pss_mib", maybe(p->pss_mib, 1)},
                   {"swap_mib", maybe(p->swap_mib, 1)},
                   {"unit", p->place ? p->place->unit : ""},
                   {"slice", p->place ? p->place->slice() : ""},
                   {"container", p->place ? p->place->container_label() : ""}});
  }
  return ok_json({{"updated", s.updated}, {"total", s.processes.size()}, {"processes", out}});
}

std::unique_ptr<store::Database> open_history(const ApiContext& ctx) {
  if (ctx.history_path.empty()) return nullptr;
  auto db = store::Database::open(ctx.history_path, true, nullptr);
  return db ? std::move(db).value() : nullptr;
}

json event_json(const store::Event& e) {
  json j = {{"ts", e.ts},         {"time", rfc3339(e.ts, false)},
            {"kind", e.kind},     {"rule", e.rule},
            {"pid", e.pid},       {"name", e.comm},
            {"action", e.action}, {"message", e.message}};
  j["ok"] = e.ok ? json(*e.ok) : json(nullptr);
  if (!e.data.empty()) {
    auto data = json::parse(e.data, nullptr, false);
    if (!data.is_discarded()) j["data"] = std::move(data);
  }
  return j;
}

// GET /api/v1/why?pid=N: every decision about the process, with its reason and outcome.
Response why(const Request& r, const ApiContext& ctx) {
  const auto pid = number_of(r, "pid", 0, 1L << 22);
  if (!pid || *pid == 0) return json_error(400, "give pid=N (a positive process ID)");
  const auto limit = limit_of(r, 100);
  if (!limit) return bad_request(limit.error());
  auto db = open_history(ctx);
  if (!db) return json_error(503, "no history available");
  json out = json::array();
  for (const auto& e : store::query_why(*db, static_cast<Pid>(*pid), static_cast<int>(*limit))) {
    out.push_back(event_json(e));
  }
  return ok_json({{"pid", *pid}, {"entries", out}});
}

Response events(const Request& r, const ApiContext& ctx) {
  auto db = open_history(ctx);
  if (!db) return json_error(503, "no history available");
  const auto period = period_of(r, ctx, 3600);
  if (!period) return bad_request(period.error());
  const auto page = page_of(r, 1000);
  if (!page) return bad_request(page.error());
  std::int64_t next = 0;
  const auto list = store::query_events(*db, period->first, period->second, param(r, "rule"),
                                        param(r, "kind"), *page, &next);
  json out = json::array();
  for (const auto& e : list) out.push_back(event_json(e));
  return ok_json({{"events", out}, {"next", next_of(next)}});
}

// What a samples route was asked (the period, per scan or per minute, the page) with the
// history opened, or the answer to give instead (a malformed parameter, no history).
struct SampleQuery {
  double from = 0, to = 0;
  bool minutes = false;
  store::Page page;
  std::unique_ptr<store::Database> db;
};
std::variant<SampleQuery, Response> sample_query(const Request& r, const ApiContext& ctx) {
  const auto period = period_of(r, ctx, 900);
  if (!period) return bad_request(period.error());
  auto db = open_history(ctx);
  if (!db) return json_error(503, "no history available");
  const auto page = page_of(r, 5000);
  if (!page) return bad_request(page.error());
  return SampleQuery{period->first, period->second, param(r, "minutes").value_or("0") == "1", *page,
                     std::move(db)};
}

Response history(const Request& r, const ApiContext& ctx) {
  auto asked = sample_query(r, ctx);
  if (auto* answer = std::get_if<Response>(&asked)) return *answer;
  auto& q = std::get<SampleQuery>(asked);
  std::int64_t next = 0;
  const auto rows =
      store::query_samples(*q.db, q.from, q.to, param(r, "rule"), q.minutes, q.page, &next);
  json out = json::array();
  for (const auto& s : rows) {
    out.push_back({{"ts", s.ts},
                   {"time", rfc3339(s.ts, false)},
                   {"rule", s.rule},
                   {"processes", s.processes},
                   {"cpu_percent", s.cpu},
                   {"cpu_max", s.cpu_max},
                   {"rss_mib", s.rss_mib},
                   {"rss_bytes", static_cast<std::uint64_t>(s.rss_mib * 1048576.0)},
                   {"rss_max", s.rss_max}});
  }
  return ok_json({{"minutes", q.minutes}, {"samples", out}, {"next", next_of(next)}});
}

// GET /api/v1/history/system: memory, PSI and load, per scan or per minute.
Response history_system(const Request& r, const ApiContext& ctx) {
  auto asked = sample_query(r, ctx);
  if (auto* answer = std::get_if<Response>(&asked)) return *answer;
  auto& q = std::get<SampleQuery>(asked);
  std::int64_t next = 0;
  const auto rows = store::query_system(*q.db, q.from, q.to, q.minutes, q.page, &next);
  const auto opt = [](const std::optional<double>& v) {
    return v ? json(std::round(*v * 100) / 100) : json(nullptr);
  };
  json out = json::array();
  for (const auto& s : rows) {
    out.push_back({{"ts", s.ts},
                   {"time", rfc3339(s.ts, false)},
                   {"load1", opt(s.load1)},
                   {"memory_used_percent", opt(s.mem_used_percent)},
                   {"mem_available_mib", opt(s.mem_available_mib)},
                   {"psi_some_avg10", opt(s.psi_some_avg10)},
                   {"psi_full_avg10", opt(s.psi_full_avg10)}});
  }
  return ok_json({{"minutes", q.minutes}, {"samples", out}, {"next", next_of(next)}});
}

// PUT /api/v1/profile: {"profile": "NAME"} or {"profile": null} (none) chooses by hand;
// {"mode": "auto"} goes back to the automatic choice.
Response set_profile(const Request& r, const ApiContext& ctx) {
  const auto body = json::parse(r.body, nullptr, false);
  const char* usage = R"(give {"profile": "NAME"}, {"profile": null} or {"mode": "auto"})";
  if (!body.is_object()) return json_error(400, usage);
  const auto mode = body.value("mode", json(body.contains("profile") ? "manual" : ""));
  const bool manual = mode == "manual";
  if (!manual && mode != "auto") return json_error(400, usage);
  const auto name = body.value("profile", json(nullptr));
  if (manual && !name.is_null() && !(name.is_string() && !name.get<std::string>().empty())) {
    return json_error(400, usage);
  }
  const auto done = ctx.set_profile(manual, name.is_string() ? name.get<std::string>() : "");
  if (!done) {
    return json_error(done.error().kind() == ErrorKind::kConfig ? 404 : 500, done.error().message);
  }
  return ok_json(*done);
}

Response control(const Request& r, const ApiContext& ctx) {
  if (ctx.token.empty()) return json_error(403, "control endpoints are off: no token configured");
  if (!authorized(r.authorization, ctx.token)) {
    Response res = json_error(401, "a valid bearer token is required");
    res.headers["WWW-Authenticate"] = "Bearer";
    return res;
  }
  if (r.path == "/api/v1/reload") return ok_json(ctx.reload());
  if (r.path == "/api/v1/profile") return set_profile(r, ctx);
  std::optional<Pid> pid;
  if (param(r, "pid")) {
    const auto n = number_of(r, "pid", 0, 1L << 22);
    if (!n) return json_error(400, "pid must be a number");
    pid = static_cast<Pid>(*n);
  } else if (param(r, "all").value_or("") != "1") {
    return json_error(400, "give pid=N or all=1");
  }
  const auto thawed = ctx.thaw(pid);
  if (!thawed) return json_error(thawed.error().gone() ? 409 : 500, thawed.error().message);
  return ok_json(*thawed);
}

}  // namespace

bool reads_process_table(const std::string& path, int per_process_metrics) {
  return path == "/api/v1/processes" || path == "/ws" ||
         (path == "/metrics" && per_process_metrics > 0);
}

bool reads_history(const std::string& path) {
  return path == "/api/v1/history" || path == "/api/v1/history/system" ||
         path == "/api/v1/events" || path == "/api/v1/why";
}

Response route(const Request& req, const ApiContext& ctx) {
  const auto& p = req.path;
  // /api/v1/profile is read with GET and changed with PUT (a control request).
  const bool profile = p == "/api/v1/profile";
  const bool is_control =
      p == "/api/v1/thaw" || p == "/api/v1/reload" || (profile && req.method == "PUT");
  const std::string allow = profile      ? "GET, HEAD, PUT, OPTIONS"
                            : is_control ? "POST, OPTIONS"
                                         : "GET, HEAD, OPTIONS";
  if (req.method == "OPTIONS") {
    Response r;
    r.status = 204;
    r.headers["Allow"] = allow;
    return r;
  }
  if (is_control ? req.method != "POST" && !profile : req.method != "GET" && req.method != "HEAD") {
    Response r = json_error(405, profile ? "use GET or PUT" : is_control ? "use POST" : "use GET");
    r.headers["Allow"] = allow;
    return r;
  }
  try {
    if (is_control) return control(req, ctx);
    // The history's readers: they may be answered on a worker thread, so they touch nothing
    // but their own read-only connection (not the published state).
    if (reads_history(p)) {
      if (p == "/api/v1/events") return events(req, ctx);
      if (p == "/api/v1/why") return why(req, ctx);
      if (p == "/api/v1/history") return history(req, ctx);
      return history_system(req, ctx);
    }
    const bool lists = reads_process_table(p, ctx.per_process_metrics);
    auto state = lists && ctx.state_with_processes ? ctx.state_with_processes() : ctx.state();
    if (p == "/healthz") return ok_json({{"ok", state != nullptr}});
    if (!state) return json_error(503, "no scan yet");
    if (p == "/metrics") {
      Response r;
      r.content_type = kMetricsContentType;
      r.body = render_metrics(*state, ctx.per_process_metrics, process_fds());
      return r;
    }
    if (p == "/api/v1/status") {
      json j = status_json(*state);
      j["control"] = state->control;
      return ok_json(j);
    }
    if (p == "/api/v1/rules") return ok_json({{"rules", rules_json(*state)}});
    if (p == "/api/v1/processes") return processes(req, *state);
    if (p == "/api/v1/predictions") return ok_json(predictions_json(*state));
    if (p == "/api/v1/frozen") return ok_json({{"frozen", frozen_json(*state)}});
    if (profile) return ok_json(profile_json(state->profile));
    if (ctx.asset) {
      if (auto a = ctx.asset(p)) {
        if (const auto at = a->body.find("{{version}}"); at != std::string::npos) {
          a->body.replace(at, 11, ctx.version);
        }
        return *a;
      }
    }
    return json_error(404, "no such path: " + p);
  } catch (const std::exception& e) {
    // Not control flow: a route that breaks (the history file, the JSON library) answers 500
    // and the server and the scans go on.
    return json_error(500, std::string("internal error: ") + e.what());
  }
}

}  // namespace freezr::serve

#include <gtest/gtest.h>

#include "core/timespec.h"
#include "serve/admission.h"
#include "serve/metrics.h"
#include "serve/routes.h"
#include "serve/status.h"

namespace freezr::serve {
namespace {

State sample_state() {
  State s;
  s.version = "9.9.9";
  s.started = 1000;
  s.updated = 1010;
  s.scans = 4;
  s.last_scan_seconds = 0.002;
  s.scan_seconds_total = 0.008;
  RuleRow r;
  r.name = "node";
  r.action = "kill";
  r.processes = 2;
  r.cpu = 150.5;
  r.rss_mib = 2;
  r.checks = 8;
  r.cpu_violations = 3;
  s.rules.push_back(r);
  s.processes = {{10, "node", 100, 1, "node", 2},
                 {11, "bad\"na\nme\xff", 50.5, 1, "node", 1},
                 {12, "bash", 1, 3, "", 0}};
  s.process_count = s.processes.size();
  s.actions[{"node", "kill", "ok"}] = 2;
  proc::MemInfo m;
  m.total_kb = 1000;
  m.available_kb = 500;
  s.memory = m;
  proc::Pressure p;
  p.some.avg10 = 1.5;
  p.full = proc::PressureLine{0.5, 0, 0, 0};
  s.psi_memory = p;
  return s;
}

TEST(Metrics, FamiliesAndSamples) {
  const auto text = render_metrics(sample_state(), 0);
  EXPECT_NE(text.find("# TYPE freezr_scans_total counter\nfreezr_scans_total 4\n"),
            std::string::npos);
  EXPECT_NE(text.find("freezr_build_info{version=\"9.9.9\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("freezr_rule_cpu_percent{rule=\"node\"} 150.5\n"), std::string::npos);
  EXPECT_NE(text.find("freezr_rule_memory_bytes{rule=\"node\"} 2097152\n"), std::string::npos);
  EXPECT_NE(text.find("freezr_rule_violations_total{rule=\"node\",metric=\"cpu\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("freezr_actions_total{rule=\"node\",action=\"kill\",outcome=\"ok\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("freezr_memory_available_bytes 512000\n"), std::string::npos);
  EXPECT_NE(text.find("freezr_pressure_avg10_percent{resource=\"memory\",kind=\"full\"} 0.5\n"),
            std::string::npos);
  EXPECT_EQ(text.find("freezr_process_cpu_percent"), std::string::npos);  // off by default
  // Every sample line belongs to a family declared just before with HELP and TYPE.
  std::string family;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto end = text.find('\n', pos);
    const auto line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("# TYPE ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
    } else if (line.rfind("#", 0) != 0) {
      EXPECT_EQ(line.rfind(family, 0), 0U) << line;
    }
  }
}

TEST(Metrics, PerProcessSeriesAreCappedAndLabelsEscaped) {
  const auto text = render_metrics(sample_state(), 2);
  EXPECT_NE(text.find("freezr_process_cpu_percent{pid=\"10\",name=\"node\",rule=\"node\"} 100\n"),
            std::string::npos);
  EXPECT_NE(text.find("name=\"bad\\\"na\\nme\xEF\xBF\xBD\""), std::string::npos) << text;
  EXPECT_EQ(text.find("pid=\"12\""), std::string::npos);  // third process: over the cap
}

TEST(Metrics, TheBusiestUnitsAreSummedUnderTheSameCap) {
  auto s = sample_state();
  const auto in = [](const char* cgroup) {
    return std::make_shared<const proc::Placement>(proc::parse_placement(cgroup));
  };
  s.processes[0].place = in("0::/system.slice/web.service\n");
  s.processes[1].place = in("0::/system.slice/web.service\n");
  s.processes[2].place = in("0::/user.slice/user-1000.slice/session-1.scope\n");
  const auto text = render_metrics(s, 1);
  EXPECT_NE(text.find("freezr_unit_cpu_percent{unit=\"web.service\"} 150.5\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("freezr_unit_memory_bytes{unit=\"web.service\"} 2097152\n"),
            std::string::npos);
  EXPECT_EQ(text.find("session-1.scope"), std::string::npos);               // over the cap of 1
  EXPECT_EQ(render_metrics(s, 0).find("freezr_unit_"), std::string::npos);  // off by default
}

TEST(Metrics, LabelValueKeepsUtf8AndReplacesTheRest) {
  EXPECT_EQ(label_value("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(label_value("a\x01"
                        "b\xc3"),
            "a?b\xEF\xBF\xBD");
  EXPECT_EQ(label_value("x\\y"), "x\\\\y");
  // What promtool refuses: overlong forms, surrogates, bytes F5-F7. Each becomes U+FFFD.
  EXPECT_EQ(label_value("\xc0\xaf|\xed\xa0\x80|\xf5\x80\x80\x80"),
            "\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Http, ParseTarget) {
  std::string path;
  std::map<std::string, std::string> q;
  parse_target("/api/v1/processes?sort=cpu&limit=5&name=a%20b+c&flag", path, q);
  EXPECT_EQ(path, "/api/v1/processes");
  EXPECT_EQ(q["sort"], "cpu");
  EXPECT_EQ(q["limit"], "5");
  EXPECT_EQ(q["name"], "a b c");
  EXPECT_EQ(q.count("flag"), 1U);
}

ApiContext context(std::shared_ptr<const State> state, std::string token = "") {
  ApiContext c;
  c.state = [state] { return state; };
  c.token = std::move(token);
  c.now = [] { return 2000.0; };
  c.thaw = [](std::optional<Pid> pid) -> Result<nlohmann::json> {
    if (pid && *pid == 404) return Error(ESRCH, "PID is not frozen by FreezR");
    return nlohmann::json{{"thawed", pid ? *pid : -1}};
  };
  c.reload = [] { return nlohmann::json{{"reloaded", true}}; };
  return c;
}

Request req(const std::string& method, const std::string& target, const std::string& auth = "") {
  Request r;
  r.method = method;
  parse_target(target, r.path, r.query);
  r.authorization = auth;
  return r;
}

TEST(Routes, ProcessesOfAUnitGlob) {
  auto s = sample_state();
  s.processes[1].place = std::make_shared<const proc::Placement>(proc::parse_placement(
      "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-code-3.scope\n"));
  auto ctx = context(std::make_shared<const State>(s));
  for (const char* glob : {"app-code-*.scope", "user@1000.service"}) {
    const auto j = nlohmann::json::parse(
        route(req("GET", std::string("/api/v1/processes?unit=") + glob), ctx).body);
    ASSERT_EQ(j["processes"].size(), 1U) << glob;
    EXPECT_EQ(j["processes"][0]["pid"], 11);
    EXPECT_EQ(j["processes"][0]["unit"], "app-code-3.scope");
    EXPECT_EQ(j["processes"][0]["slice"], "app.slice");
    EXPECT_EQ(j["processes"][0]["container"], "");
  }
}

TEST(Routes, ReadEndpoints) {
  auto ctx = context(std::make_shared<const State>(sample_state()));
  auto m = route(req("GET", "/metrics"), ctx);
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type, kMetricsContentType);
  auto p = route(req("GET", "/api/v1/processes?sort=mem&limit=2"), ctx);
  ASSERT_EQ(p.status, 200);
  const auto j = nlohmann::json::parse(p.body);
  ASSERT_EQ(j["processes"].size(), 2U);
  EXPECT_EQ(j["processes"][0]["pid"], 12);  // most memory first
  EXPECT_EQ(j["total"], 3);
  auto only = nlohmann::json::parse(route(req("GET", "/api/v1/processes?rule=node"), ctx).body);
  EXPECT_EQ(j["processes"][0]["unit"], "");  // where a process lives is "" when not known
  EXPECT_EQ(only["processes"].size(), 2U);
  EXPECT_EQ(route(req("GET", "/api/v1/processes?limit=x"), ctx).status, 400);
  EXPECT_EQ(route(req("GET", "/api/v1/events"), ctx).status, 503);  // no history configured
  EXPECT_EQ(route(req("GET", "/api/v1/status"), ctx).status, 200);
  EXPECT_EQ(route(req("GET", "/nowhere"), ctx).status, 404);
  EXPECT_EQ(route(req("DELETE", "/metrics"), ctx).status, 405);
  EXPECT_EQ(route(req("GET", "/api/v1/thaw"), ctx).status, 405);
  auto before = context(nullptr);
  EXPECT_EQ(route(req("GET", "/metrics"), before).status, 503);
}

TEST(Routes, OnlyTheRoutesShowingProcessesAskForThemListed) {
  auto bare = sample_state();
  bare.processes.clear();
  bare.listed = false;
  bare.process_count = 3;
  auto ctx = context(std::make_shared<const State>(bare));
  int listings = 0;
  ctx.state_with_processes = [&listings] {
    ++listings;
    return std::make_shared<const State>(sample_state());
  };
  EXPECT_EQ(route(req("GET", "/api/v1/status"), ctx).status, 200);
  const auto m = route(req("GET", "/metrics"), ctx).body;
  EXPECT_NE(m.find("\nfreezr_processes 3\n"), std::string::npos) << "counted, not listed";
  EXPECT_EQ(listings, 0);
  const auto j = nlohmann::json::parse(route(req("GET", "/api/v1/processes"), ctx).body);
  EXPECT_EQ(j["total"], 3);
  EXPECT_EQ(listings, 1);
  ctx.per_process_metrics = 2;
  EXPECT_NE(route(req("GET", "/metrics"), ctx).body.find("freezr_process_cpu_percent{pid=\"10\""),
            std::string::npos);
  EXPECT_EQ(listings, 2);
  // A state that cannot list them yet (the rules just changed) says so.
  ctx.state_with_processes = [&bare] { return std::make_shared<const State>(bare); };
  EXPECT_EQ(route(req("GET", "/api/v1/processes"), ctx).status, 503);
}

TEST(Routes, MethodsByTheBook) {
  auto ctx = context(std::make_shared<State>(sample_state()));
  const auto options = route(req("OPTIONS", "/api/v1/status"), ctx);
  EXPECT_EQ(options.status, 204);
  EXPECT_EQ(options.headers.at("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_TRUE(options.body.empty());
  const auto wrong = route(req("DELETE", "/metrics"), ctx);
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.headers.at("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(route(req("GET", "/api/v1/thaw"), ctx).headers.at("Allow"), "POST, OPTIONS");
  EXPECT_EQ(route(req("HEAD", "/api/v1/status"), ctx).status, 200);
}

Request browser(const std::string& method, const std::string& path, const std::string& host,
                const std::string& origin = "", bool websocket = false) {
  Request r = req(method, path);
  r.host = host;
  r.origin = origin;
  r.websocket = websocket;
  return r;
}

TEST(Admission, TheHostMustNameFreezrWhichDefeatsRebinding) {
  AccessPolicy p;
  p.listen_host = "127.0.0.1";
  p.allowed_hosts = {"freezr.lan"};
  for (const char* host : {"127.0.0.1:9813", "[::1]:9813", "localhost:9813", "LOCALHOST",
                           "10.0.0.7", "freezr.lan:9813", ""}) {
    EXPECT_EQ(refusal(browser("GET", "/api/v1/status", host), p), std::nullopt) << host;
  }
  for (const char* host : {"evil.example:9813", "attacker.example", "127.0.0.1.nip.io:9813"}) {
    const auto r = refusal(browser("GET", "/api/v1/status", host), p);
    ASSERT_TRUE(r) << host;
    EXPECT_EQ(r->status, 421) << host;
  }
  EXPECT_EQ(host_of("[::1]:9813"), "::1");
  EXPECT_EQ(host_of("Example.COM:80"), "example.com");
}

TEST(Admission, CrossOriginWebSocketsAndControlAreRefused) {
  AccessPolicy p;
  p.listen_host = "127.0.0.1";
  p.allowed_origins = {"https://grafana.lan"};
  const std::string host = "127.0.0.1:9813";
  EXPECT_EQ(refusal(browser("GET", "/ws", host, "http://127.0.0.1:9813", true), p), std::nullopt);
  EXPECT_EQ(refusal(browser("GET", "/ws", host, "", true), p), std::nullopt);  // not a browser
  EXPECT_EQ(refusal(browser("POST", "/api/v1/thaw", host, "https://grafana.lan"), p), std::nullopt);
  for (const auto& r : {browser("GET", "/ws", host, "http://evil.example", true),
                        browser("GET", "/ws", host, "http://127.0.0.1:8000", true),
                        browser("GET", "/ws", host, "null", true),
                        browser("POST", "/api/v1/thaw", host, "http://evil.example")}) {
    const auto refused = refusal(r, p);
    ASSERT_TRUE(refused) << r.origin;
    EXPECT_EQ(refused->status, 403) << r.origin;
  }
  // A cross-origin GET is not refused here: without CORS headers the page cannot read it.
  EXPECT_EQ(refusal(browser("GET", "/api/v1/status", host, "http://evil.example"), p),
            std::nullopt);
}

TEST(Admission, BeyondLoopbackReadsNeedTheToken) {
  AccessPolicy p;
  p.listen_host = "0.0.0.0";
  p.reads_need_token = true;
  p.token = "s3cret";
  p.public_path = [](const std::string& path) { return path == "/healthz" || path == "/"; };
  const auto denied = refusal(browser("GET", "/api/v1/events", "10.0.0.7:9813"), p);
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  EXPECT_EQ(denied->headers.at("WWW-Authenticate"), "Bearer");
  EXPECT_TRUE(refusal(browser("GET", "/metrics", "10.0.0.7"), p));
  EXPECT_EQ(refusal(browser("GET", "/healthz", "10.0.0.7"), p), std::nullopt);
  EXPECT_EQ(refusal(browser("GET", "/", "10.0.0.7"), p), std::nullopt);
  auto with = browser("GET", "/api/v1/events", "10.0.0.7");
  with.authorization = "Bearer s3cret";
  EXPECT_EQ(refusal(with, p), std::nullopt);
  auto ws = browser("GET", "/ws", "10.0.0.7", "", true);
  EXPECT_TRUE(refusal(ws, p));
  ws.ws_protocols = "freezr, bearer.s3cret";
  EXPECT_EQ(refusal(ws, p), std::nullopt);
  ws.ws_protocols = "freezr, bearer.wrong";
  EXPECT_TRUE(refusal(ws, p));
  EXPECT_EQ(subprotocols(" freezr ,bearer.x,,"), (std::vector<std::string>{"freezr", "bearer.x"}));
}

TEST(Routes, ControlNeedsTheToken) {
  const std::string token = "0123456789abcdef0123";
  auto off = context(std::make_shared<const State>(sample_state()));
  EXPECT_EQ(route(req("POST", "/api/v1/reload"), off).status, 403);
  auto on = context(std::make_shared<const State>(sample_state()), token);
  EXPECT_EQ(route(req("POST", "/api/v1/reload"), on).status, 401);
  EXPECT_EQ(route(req("POST", "/api/v1/reload", "Bearer nope"), on).status, 401);
  EXPECT_EQ(route(req("POST", "/api/v1/reload", "Basic " + token), on).status, 401);
  EXPECT_EQ(route(req("POST", "/api/v1/reload", "Bearer " + token), on).status, 200);
  EXPECT_EQ(route(req("POST", "/api/v1/thaw", "Bearer " + token), on).status, 400);
  auto t = route(req("POST", "/api/v1/thaw?pid=42", "Bearer " + token), on);
  EXPECT_EQ(t.status, 200);
  EXPECT_EQ(nlohmann::json::parse(t.body)["thawed"], 42);
  EXPECT_EQ(route(req("POST", "/api/v1/thaw?pid=404", "Bearer " + token), on).status, 409);
  EXPECT_EQ(route(req("POST", "/api/v1/thaw?pid=4x", "Bearer " + token), on).status, 400);
  EXPECT_FALSE(authorized("Bearer " + token + "x", token));
  EXPECT_FALSE(authorized("Bearer ", token));
  EXPECT_FALSE(authorized("Bearer x", ""));
}

TEST(Routes, MalformedParametersAreA400NotAnException) {
  auto ctx = context(std::make_shared<const State>(sample_state()));
  for (const char* target :
       {"/api/v1/processes?limit=x", "/api/v1/processes?limit=-3", "/api/v1/why?pid=abc",
        "/api/v1/why?pid=0", "/api/v1/why?pid=9&limit=1e3"}) {
    EXPECT_EQ(route(req("GET", target), ctx).status, 400) << target;
  }
}

TEST(Result, KindsAndVoid) {
  EXPECT_EQ(Error(ENOENT, "x").kind(), ErrorKind::kGone);
  EXPECT_TRUE(Error(ESRCH, "x").gone());
  EXPECT_EQ(Error(EACCES, "x").kind(), ErrorKind::kPermission);
  EXPECT_EQ(Error(EIO, "x").kind(), ErrorKind::kIo);
  EXPECT_EQ(parse_error("x").kind(), ErrorKind::kParse);
  EXPECT_EQ(error_of(ErrorKind::kConfig, "x").kind(), ErrorKind::kConfig);
  EXPECT_STREQ(to_string(ErrorKind::kPermission), "permission");
  Result<void> fine;
  EXPECT_TRUE(fine.ok());
  Result<void> bad = Error(EPERM, "no");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "no");
}

TEST(Timespec, DurationsAndTimes) {
  EXPECT_EQ(parse_duration("90s"), 90.0);
  EXPECT_EQ(parse_duration("15m"), 900.0);
  EXPECT_EQ(parse_duration("2h"), 7200.0);
  EXPECT_EQ(parse_duration("3d"), 3 * 86400.0);
  EXPECT_EQ(parse_duration("1w"), 7 * 86400.0);
  EXPECT_EQ(parse_duration("30"), 30.0);
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("h"));
  EXPECT_FALSE(parse_duration("-5m"));
  EXPECT_FALSE(parse_duration("5x"));
  EXPECT_EQ(parse_time("1h", 10000), 6400.0);
  EXPECT_EQ(parse_time("1790000000", 0), 1790000000.0);
  EXPECT_EQ(parse_time("600", 10000), 9400.0);
  EXPECT_TRUE(parse_time("2026-11-27 10:00", 0));
  EXPECT_TRUE(parse_time("2026-11-27T10:00:30", 0));
  EXPECT_TRUE(parse_time("2026-11-27", 0));
  EXPECT_FALSE(parse_time("2026-11-27X10:00", 0));
  EXPECT_FALSE(parse_time("someday", 0));
  // RFC 3339, with its offset: absolute whatever the local zone.
  EXPECT_EQ(parse_time("2026-12-01T10:00:00Z", 0), 1796119200.0);
  EXPECT_EQ(parse_time("2026-12-01T11:00:00+01:00", 0), 1796119200.0);
  EXPECT_EQ(parse_time("2026-12-01T05:30:00-04:30", 0), 1796119200.0);
  EXPECT_EQ(parse_time("2026-12-01T10:00:00.25Z", 0), 1796119200.25);
  EXPECT_FALSE(parse_time("2026-12-01T10:00:00+1:00", 0));
  EXPECT_FALSE(parse_time("2026-13-01T10:00:00Z", 0));
  EXPECT_FALSE(parse_time("2026-12-01Z", 0));
  EXPECT_EQ(parse_time("@1796119200", 5), 1796119200.0);
  EXPECT_FALSE(parse_time("@1h", 5));
  EXPECT_EQ(parse_time("-1h", 10000), 6400.0);
  EXPECT_EQ(parse_time("-30m", 10000), 8200.0);
  EXPECT_FALSE(parse_time("-x", 10000));
  EXPECT_EQ(parse_time("now", 1234.5), 1234.5);
  const double now = 1796119200;  // midnights are local: checked by their distance
  const auto today = parse_time("today", now), yesterday = parse_time("yesterday", now);
  ASSERT_TRUE(today && yesterday);
  EXPECT_LE(*today, now);
  EXPECT_GT(*today, now - 86400);
  EXPECT_NEAR(*today - *yesterday, 86400, 3600);  // a DST change moves it by an hour
  EXPECT_EQ(rfc3339(1796119200.25, false), "2026-12-01T10:00:00.250Z");
  EXPECT_EQ(rfc3339(1796119200.9996, false, 0), "2026-12-01T10:00:01Z");
  const auto local = rfc3339(1796119200, true);  // whatever the zone: it reads back the same
  EXPECT_EQ(parse_time(local, 0), 1796119200.0) << local;
  EXPECT_EQ(parse_time(rfc3339(1796119200.5, false), 0), 1796119200.5);
}

TEST(Status, RenderedFromTheTypedState) {
  auto s = sample_state();
  s.pid = 7;
  s.totals.checks = 3;
  s.totals.process_checks = 4;
  s.totals.violating_checks = 1;
  s.pressure = {"warning", "psi", 2};
  s.rules[0].cpu_threshold = 80;
  const auto j = status_json(s);
  EXPECT_EQ(j["version"], "9.9.9");
  EXPECT_EQ(j["pid"], 7);
  EXPECT_EQ(j["totals"]["checks"], 3);
  EXPECT_DOUBLE_EQ(j["totals"]["violation_rate_percent"].get<double>(), 25.0);
  EXPECT_EQ(j["pressure"]["level"], "warning");
  EXPECT_EQ(j["pressure"]["kills"], 2);
  EXPECT_EQ(j["health"]["memory_used_percent"], 50.0);
  EXPECT_EQ(j["rules"][0]["name"], "node");
  EXPECT_EQ(j["rules"][0]["processes"], 2);
  EXPECT_EQ(j["rules"][0]["cpu_threshold"], 80.0);
  EXPECT_TRUE(j["rules"][0]["memory_threshold"].is_null());
  EXPECT_EQ(j["rules"][0]["rss_bytes"], 2 * 1048576);
  EXPECT_EQ(rules_json(s), j["rules"]);
  const auto metrics = render_metrics(s, 0);
  EXPECT_NE(metrics.find("freezr_pressure_level 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("freezr_pressure_kills_total 2\n"), std::string::npos);
}

TEST(Predictions, RenderedFromTheTypedRowsForTheApiAndTheMetrics) {
  auto s = sample_state();
  engine::LeakReport leak;
  leak.rule = "node";
  leak.entity = {10, 5};
  leak.comm = "node";
  leak.mb_per_minute = 12.345;
  leak.limit_mb = 500;
  leak.seconds_to_limit = 60;
  s.predictions.leaks.push_back(leak);
  s.predictions.exhaustion =
      engine::Exhaustion{100, 50, -10, 300, 200, std::numeric_limits<double>::infinity(), 0.9};
  engine::AnomalyReport a{"node", {10, 5}, "node", {95, 10, 5, 17}};
  s.predictions.anomalies.push_back({1005, a});
  s.predictions.anomaly_counts["node"] = 3;
  const auto j = predictions_json(s);
  EXPECT_EQ(j["leaks"][0]["pid"], 10);
  EXPECT_DOUBLE_EQ(j["leaks"][0]["mib_per_minute"].get<double>(), 12.35);
  EXPECT_EQ(j["leaks"][0]["limit_mib"], 500.0);
  EXPECT_EQ(j["exhaustion"]["seconds"], 300.0);
  EXPECT_TRUE(j["exhaustion"]["seconds_high"].is_null());  // may never fall that far
  EXPECT_EQ(j["anomalies"][0]["sigmas"], 17.0);
  EXPECT_EQ(j["anomaly_counts"]["node"], 3);
  const auto m = render_metrics(s, 0);
  EXPECT_NE(m.find("freezr_leak_seconds_to_limit{rule=\"node\",pid=\"10\",name=\"node\"} 60\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("freezr_memory_exhaustion_seconds 300\n"), std::string::npos);
  EXPECT_NE(m.find("freezr_cpu_anomalies_total{rule=\"node\"} 3\n"), std::string::npos);
  s.predictions = {};
  EXPECT_TRUE(predictions_json(s)["exhaustion"].is_null());
  EXPECT_EQ(render_metrics(s, 0).find("freezr_memory_exhaustion_seconds 0"), std::string::npos);
}

}  // namespace
}  // namespace freezr::serve

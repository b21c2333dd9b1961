// Notices in plain words, their JSON document (as the README documents it), the webhook
// formats, and the headers file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include "notify/desktop.h"
#include "notify/notice.h"
#include "notify/webhook.h"

namespace freezr::notify {
namespace {

using nlohmann::json;

act::ActionOutcome outcome(engine::ActionKind kind, bool ok) {
  act::ActionOutcome o;
  o.rule = "browser";
  o.action = kind;
  o.ok = ok;
  o.target = engine::TargetInfo{{77, 5}, "firefox", 310, 900};
  o.reason = "cpu 310.0% > 80.0% for 3 scans";
  o.detail = "done";
  o.duration = 5;
  return o;
}

TEST(Notice, ActionsInPlainWords) {
  auto n = action_notice(1, outcome(engine::ActionKind::kFreeze, true));
  EXPECT_EQ(n.title, "firefox was frozen for 5 s");
  EXPECT_EQ(n.message, "firefox was frozen for 5 s (pid 77): cpu 310.0% > 80.0% for 3 scans");
  EXPECT_EQ(n.severity, "warning");
  n = action_notice(1, outcome(engine::ActionKind::kKill, false));
  EXPECT_EQ(n.title, "firefox could not be killed");
  EXPECT_EQ(n.severity, "critical");
  EXPECT_NE(n.message.find(" — done"), std::string::npos);
  auto dry = outcome(engine::ActionKind::kKill, true);
  dry.dry_run = true;
  EXPECT_EQ(action_notice(1, dry).title, "firefox would be killed (dry-run)");
  EXPECT_EQ(action_notice(1, dry).severity, "info");
  auto undo = outcome(engine::ActionKind::kFreeze, true);
  undo.undo = true;
  n = action_notice(1, undo);
  EXPECT_EQ(n.title, "firefox was thawed");
  EXPECT_EQ(n.action, "undo freeze");
  EXPECT_EQ(n.reason, "");
  auto restart = outcome(engine::ActionKind::kRestart, true);
  restart.target.reset();
  restart.service = "kesl.service";
  EXPECT_EQ(action_notice(1, restart).title, "kesl.service was restarted");
}

TEST(Notice, PredictionsPressureAndLifecycle) {
  auto n = prediction_notice(1, "node", 42, "node", "kill", 125, "900 MiB now");
  EXPECT_EQ(n.title, "node will be killed in about 2 minutes if memory keeps growing");
  EXPECT_EQ(n.kind, "prediction");
  EXPECT_EQ(prediction_notice(1, "r", 1, "x", "freeze", 40, "").title,
            "x will be frozen in about 40 seconds if memory keeps growing");
  n = pressure_notice(1, "critical", "MemAvailable 3.1%");
  EXPECT_EQ(n.title, "Memory pressure is critical");
  EXPECT_EQ(n.severity, "critical");
  EXPECT_EQ(pressure_notice(1, "none", "").title, "Memory pressure is over");
  n = lifecycle_notice(1, "reload", false, "configuration reload rejected");
  EXPECT_EQ(n.severity, "warning");
  EXPECT_EQ(notice_json(n, "h")["ok"], false);
}

TEST(Notice, TheDocumentHasExactlyTheKeysTheReadmeShows) {
  std::ifstream in(std::string(FREEZR_SOURCE_DIR) + "/README.md");
  const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = readme.find("The `json` document (version 1):");
  ASSERT_NE(at, std::string::npos);
  const auto open = readme.find("```json\n", at) + 8;
  const auto close = readme.find("```", open);
  const auto documented = json::parse(readme.substr(open, close - open));
  const auto ours = notice_json(action_notice(1, outcome(engine::ActionKind::kKill, true)), "h");
  for (const auto& [k, v] : documented.items()) {
    EXPECT_TRUE(ours.contains(k)) << k;
    EXPECT_EQ(ours[k].type_name(), v.type_name()) << k;
  }
  EXPECT_EQ(ours.size(), documented.size());
}

TEST(Desktop, WhichNoticesAndTheirArguments) {
  auto n = action_notice(1, outcome(engine::ActionKind::kFreeze, true));
  EXPECT_TRUE(for_desktop(n));
  const std::vector<std::string> want = {"desktop-notify",
                                         "--summary",
                                         "firefox was frozen for 5 s",
                                         "--body",
                                         "Rule browser: cpu 310.0% > 80.0% for 3 scans",
                                         "--icon",
                                         "dialog-warning",
                                         "--urgency",
                                         "normal",
                                         "--action",
                                         "thaw=Thaw now",
                                         "--wait",
                                         "5"};
  EXPECT_EQ(desktop_arguments(n), want);
  n = action_notice(1, outcome(engine::ActionKind::kKill, false));
  auto args = desktop_arguments(n);
  EXPECT_EQ(args[4], "Rule browser: cpu 310.0% > 80.0% for 3 scans\ndone");
  EXPECT_EQ(args[6], "dialog-error");
  EXPECT_EQ(args[8], "critical");
  EXPECT_EQ(args.size(), 9U);  // no button for a kill
  auto dry = outcome(engine::ActionKind::kKill, true);
  dry.dry_run = true;
  EXPECT_FALSE(for_desktop(action_notice(1, dry)));
  auto undo = outcome(engine::ActionKind::kFreeze, true);
  undo.undo = true;
  EXPECT_FALSE(for_desktop(action_notice(1, undo)));
  EXPECT_FALSE(for_desktop(action_notice(1, outcome(engine::ActionKind::kLog, true))));
  EXPECT_TRUE(for_desktop(pressure_notice(1, "critical", "x")));
  EXPECT_FALSE(for_desktop(pressure_notice(1, "none", "x")));
  EXPECT_FALSE(for_desktop(lifecycle_notice(1, "start", true, "x")));
  EXPECT_TRUE(for_desktop(prediction_notice(1, "r", 1, "x", "kill", 60, "")));
}

TEST(Webhook, FormatsForTheCommonReceivers) {
  const auto n = action_notice(1, outcome(engine::ActionKind::kKill, true));
  auto d = render(n, "ntfy", "h");
  EXPECT_EQ(d.body, n.message);
  const serve::Headers want = {{"Title", "FreezR: firefox was killed"},
                               {"Priority", "4"},
                               {"Tags", "freezr,action"},
                               {"Content-Type", "text/plain; charset=utf-8"}};
  EXPECT_EQ(d.headers, want);
  d = render(n, "gotify", "h");
  const auto g = json::parse(d.body);
  EXPECT_EQ(g["priority"], 5);
  EXPECT_EQ(g["extras"]["freezr"]["name"], "firefox");
  d = render(n, "json", "h");
  EXPECT_EQ(json::parse(d.body)["title"], "firefox was killed");
}

TEST(Webhook, HeadersFile) {
  const auto path = testing::TempDir() + "/freezr-headers-" + std::to_string(::getpid());
  {
    std::ofstream out(path);
    out << "# comment\r\nAuthorization: Bearer abc\n\n  \nX-Two:value: with colon\n";
  }
  const auto h = read_headers(path);
  ASSERT_TRUE(h) << h.error().message;
  const serve::Headers want = {{"Authorization", "Bearer abc"}, {"X-Two", "value: with colon"}};
  EXPECT_EQ(*h, want);
  {
    std::ofstream out(path);
    out << "Authorization Bearer abc\n";
  }
  const auto bad = read_headers(path);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("line 1: expected \"Name: value\""), std::string::npos);
  ::unlink(path.c_str());
  EXPECT_FALSE(read_headers(path));
}

}  // namespace
}  // namespace freezr::notify

namespace freezr::serve {
namespace {

TEST(Url, PartsOfHttpAndHttpsUrls) {
  auto u = parse_url("https://ntfy.sh/topic?x=1");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "ntfy.sh");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/topic?x=1");
  EXPECT_EQ(u->authority(), "ntfy.sh:443");
  u = parse_url("http://[::1]:8080");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->authority(), "[::1]:8080");
  EXPECT_FALSE(parse_url("ftp://x/"));
  EXPECT_FALSE(parse_url("http://:80/"));
  EXPECT_FALSE(parse_url("http://x:99999/"));
  EXPECT_FALSE(parse_url("http://x:8a/"));
  EXPECT_FALSE(parse_url("http://user:pw@x/"));
  EXPECT_FALSE(parse_url("http://[::1/"));
}

}  // namespace
}  // namespace freezr::serve

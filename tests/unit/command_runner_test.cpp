// The command runner with real processes: arguments as given (no shell), the facts in the
// environment, output kept, exit status, a timeout that kills the whole group, a program
// that is not there, another user.
#include "act/command_runner.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <fstream>
#include <optional>

namespace freezr::act {
namespace {

struct Runner {
  boost::asio::io_context io;
  SystemClock clock;
  CommandRunner runner{io, clock};

  CommandResult go(const engine::Command& c, const Environment& env = {}) {
    std::optional<CommandResult> got;
    runner.run(c, env, [&](const CommandResult& r) { got = r; });
    io.restart();
    io.run_for(std::chrono::seconds(20));
    EXPECT_TRUE(got.has_value());
    return got.value_or(CommandResult{});
  }
};

engine::Command command(std::vector<std::string> argv, double timeout = 10) {
  engine::Command c;
  c.argv = std::move(argv);
  c.timeout = timeout;
  return c;
}

TEST(CommandRunner, ArgumentsReachTheProgramAsGivenWithoutAShell) {
  Runner r;
  const auto got = r.go(command({"printf", "%s|", "a b", "$HOME;x", "`id`"}));
  EXPECT_TRUE(got.ok()) << got.describe();
  EXPECT_EQ(got.output, "a b|$HOME;x|`id`|");
  EXPECT_EQ(got.exit_status, 0);
}

TEST(CommandRunner, TheFactsAreInTheEnvironmentAndTheExitStatusIsKept) {
  Runner r;
  ActionOutcome o;
  o.rule = "node";
  o.action = engine::ActionKind::kExec;
  o.target = engine::TargetInfo{{4242, 7}, "no\nde", 97.5, 10};
  o.reason = "cpu 97.5% > 80.0% for 3 scans";
  o.metric = "cpu";
  o.value = 97.5;
  o.threshold = 80;
  o.streak = 3;
  const auto got = r.go(command({"/bin/sh", "-c",
                                 "echo \"$FREEZR_RULE|$FREEZR_PID|$FREEZR_ACTION|$FREEZR_VALUE|"
                                 "$FREEZR_THRESHOLD|$FREEZR_STREAK|$FREEZR_REASON|$PATH\"; "
                                 "printf '%s' \"$FREEZR_COMM\" >&2; exit 3"}),
                        command_environment(o, false));
  EXPECT_FALSE(got.ok());
  EXPECT_EQ(got.exit_status, 3);
  EXPECT_EQ(got.output,
            "node|4242|exec|97.5|80|3|cpu 97.5% > 80.0% for 3 scans|"
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nno\nde");
  EXPECT_EQ(got.describe().rfind("exit 3 in ", 0), 0U) << got.describe();
  auto after = command_environment(o, true);
  EXPECT_EQ(after.back().first, "FREEZR_DETAIL");
}

TEST(CommandRunner, AShellOnlyWhenAsked) {
  Runner r;
  auto c = command({"echo \"[$FREEZR_RULE]\" | tr a-z A-Z"});
  c.shell = true;
  const auto got = r.go(c, {{"FREEZR_RULE", "kesl"}});
  EXPECT_TRUE(got.ok()) << got.describe();
  EXPECT_EQ(got.output, "[KESL]\n");
}

// Whether pid has ended (gone, or a zombie waiting for its new parent to reap it).
bool ended(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return true;
  const auto close = stat.rfind(')');
  return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] == 'Z';
}

TEST(CommandRunner, ATimeoutKillsTheWholeGroup) {
  Runner r;
  const auto marker = testing::TempDir() + "/freezr-runner-" + std::to_string(::getpid());
  ::unlink(marker.c_str());
  // The command starts a child of its own that spins too: the group kill ends both.
  const auto t0 = std::chrono::steady_clock::now();
  const auto got = r.go(
      command({"/bin/sh", "-c",
               "/bin/sh -c 'echo $$ > " + marker + "; while :; do :; done' & while :; do :; done"},
              0.5));
  EXPECT_TRUE(got.timed_out);
  EXPECT_FALSE(got.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(got.describe().rfind("timed out after ", 0), 0U) << got.describe();
  EXPECT_EQ(r.runner.running(), 0U);
  std::ifstream in(marker);
  pid_t grandchild = 0;
  ASSERT_TRUE(in >> grandchild) << "the command's child did not start";
  for (int i = 0; i < 100 && !ended(grandchild); ++i) ::usleep(20000);
  EXPECT_TRUE(ended(grandchild));
  ::unlink(marker.c_str());
}

TEST(CommandRunner, ABackgroundCommandIsNotWaitedFor) {
  Runner r;
  bool done = false;
  r.runner.run(
      command({"/bin/sh", "-c", "while :; do :; done"}, 30), {},
      [&](const CommandResult&) { done = true; }, /*background=*/true);
  r.io.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(r.runner.running(), 0U);
  EXPECT_FALSE(done);
}

TEST(CommandRunner, AProgramThatIsNotThereIsSaidSo) {
  Runner r;
  const auto got = r.go(command({"freezr-no-such-program-here"}));
  EXPECT_FALSE(got.started);
  EXPECT_NE(got.error.find("cannot run 'freezr-no-such-program-here': not found in"),
            std::string::npos)
      << got.error;
  const auto direct = r.go(command({"/nonexistent/freezr-x"}));
  EXPECT_FALSE(direct.started);
  EXPECT_NE(direct.error.find("No such file or directory"), std::string::npos) << direct.error;
}

TEST(CommandRunner, RunsAsAnotherUserWhenAsked) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to change user";
  const passwd* pw = ::getpwnam("nobody");
  ASSERT_NE(pw, nullptr);
  Runner r;
  auto c = command({"id", "-u"});
  c.user = "nobody";
  c.uid = pw->pw_uid;
  c.gid = pw->pw_gid;
  const auto got = r.go(c);
  EXPECT_TRUE(got.ok()) << got.describe();
  EXPECT_EQ(got.output, std::to_string(pw->pw_uid) + "\n");
}

}  // namespace
}  // namespace freezr::act

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "act_fakes.h"
#include "config/config.h"
#include "daemon/kernel_oom.h"
#include "daemon/preflight.h"
#include "engine_fixtures.h"
#include "os/capabilities.h"
#include "os/instance_lock.h"
#include "os/log_retention.h"
#include "proc/parse.h"
#include "report/log_lines.h"

namespace freezr::daemon {
namespace {

namespace fs = std::filesystem;
// The daemon's OS adapters and report side, tested here beside its own parts.
using namespace freezr::os;      // NOLINT(google-build-using-namespace)
using namespace freezr::report;  // NOLINT(google-build-using-namespace)

class TempDir {
 public:
  TempDir()
      : path_(fs::temp_directory_path() /
              ("freezr-unit-" + std::to_string(getpid()) + "-" + std::to_string(counter_++))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  [[nodiscard]] std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(Retention, DaysFromCivil) {
  EXPECT_EQ(os::days_from_civil({1970, 1, 1}), 0);
  EXPECT_EQ(os::days_from_civil({2000, 3, 1}) - os::days_from_civil({2000, 2, 28}),
            2);  // leap year
  EXPECT_EQ(os::days_from_civil({2027, 1, 1}) - os::days_from_civil({2026, 12, 31}), 1);
}

TEST(Retention, ParsesOnlyDailyFileNames) {
  EXPECT_TRUE(daily_file_date("process_monitor.log.2026-11-27"));
  EXPECT_TRUE(daily_file_date("process_monitor.log.2026-11-27.gz"));
  EXPECT_FALSE(daily_file_date("process_monitor.log.2026-13-27"));
  EXPECT_FALSE(daily_file_date("process_monitor.log.2026-11-27.tmp"));
  EXPECT_FALSE(daily_file_date("other.log.2026-11-27"));
  EXPECT_FALSE(daily_file_date("process_monitor.log.yesterday"));
}

TEST(Retention, PlanDeletesOldCompressesLessOldKeepsRecent) {
  const os::Date today{2026, 11, 27};
  const std::vector<std::string> names = {
      "process_monitor.log.2026-11-27",     // today: never touched
      "process_monitor.log.2026-11-26",     // 1 day: kept as is
      "process_monitor.log.2026-11-24",     // 3 days: compressed
      "process_monitor.log.2026-11-20.gz",  // 7 days, already compressed: kept
      "process_monitor.log.2026-11-12",     // 15 days: deleted
      "process_monitor.log.2026-10-01.gz",  // deleted
      "notes.txt"};
  const auto plan = os::plan_retention(names, today, 14, 2);
  EXPECT_EQ(plan.compress, (std::vector<std::string>{"process_monitor.log.2026-11-24"}));
  EXPECT_EQ(plan.remove, (std::vector<std::string>{"process_monitor.log.2026-11-12",
                                                   "process_monitor.log.2026-10-01.gz"}));
  const auto keep_all = os::plan_retention(names, today, 0, 0);
  EXPECT_TRUE(keep_all.remove.empty());
  EXPECT_TRUE(keep_all.compress.empty());
}

TEST(Retention, ApplyCompressesAndDeletesRealFiles) {
  TempDir dir;
  for (const char* n : {"process_monitor.log.2026-11-26", "process_monitor.log.2026-11-20",
                        "process_monitor.log.2026-10-01"}) {
    std::ofstream(dir.str() + "/" + n) << "line one\nline two\n";
  }
  int removed = 0, compressed = 0;
  const auto logs = freezr::fs::Directory::open(dir.str());
  ASSERT_TRUE(logs) << logs.error().message;
  fs::permissions(dir.str() + "/process_monitor.log.2026-11-20",
                  fs::perms::owner_read | fs::perms::owner_write);
  const auto problems = os::apply_retention(*logs, {2026, 11, 27}, 14, 2, &removed, &compressed);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(removed, 1);
  EXPECT_EQ(compressed, 1);
  EXPECT_TRUE(fs::exists(dir.str() + "/process_monitor.log.2026-11-26"));
  EXPECT_FALSE(fs::exists(dir.str() + "/process_monitor.log.2026-11-20"));
  EXPECT_TRUE(fs::exists(dir.str() + "/process_monitor.log.2026-11-20.gz"));
  // The compressed file is no more readable than the original was.
  EXPECT_EQ(fs::status(dir.str() + "/process_monitor.log.2026-11-20.gz").permissions(),
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(fs::exists(dir.str() + "/process_monitor.log.2026-10-01"));
  // gzip magic bytes
  std::ifstream gz(dir.str() + "/process_monitor.log.2026-11-20.gz", std::ios::binary);
  unsigned char magic[2] = {0, 0};
  gz.read(reinterpret_cast<char*>(magic), 2);
  EXPECT_EQ(magic[0], 0x1f);
  EXPECT_EQ(magic[1], 0x8b);
}

TEST(LogLines, TextQuotesOnlyWhatNeedsIt) {
  const auto line = report::render_text("violation",
                                        {{"rule", std::string("node")},
                                         {"name", std::string("a) b (c")},
                                         {"evil", std::string("x\ny\"")},
                                         {"pid", 42LL},
                                         {"cpu", 95.04},
                                         {"ok", true}},
                                        "kill it");
  EXPECT_EQ(line,
            "VIOLATION rule=node name=\"a) b (c\" evil=\"x\\x0ay\\\"\" pid=42 cpu=95.0 ok=true: "
            "kill it");
  EXPECT_EQ(report::render_text("action_failed", {}, ""), "ACTION FAILED");
}

TEST(LogLines, JsonIsOneParseableObject) {
  const auto line = report::render_json("2026-11-27T10:00:00.000+0000", "warning", "violation",
                                        {{"rule", std::string("node")},
                                         {"name", std::string("bad\xff\nname")},
                                         {"pid", 42LL},
                                         {"cpu", 95.5}},
                                        "msg");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto j = nlohmann::ordered_json::parse(line);
  EXPECT_EQ(j["event"], "violation");
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["pid"], 42);
  EXPECT_DOUBLE_EQ(j["cpu"].get<double>(), 95.5);
  EXPECT_EQ(j["message"], "msg");
  EXPECT_EQ(j.begin().key(), "time");
}

TEST(InstanceLock, IsPrivateWhateverTheUmaskAndNeverALink) {
  TempDir dir;
  const std::string path = dir.str() + "/freezr.lock";
  const mode_t old = ::umask(0);
  {
    auto lock = os::InstanceLock::acquire(path, false, 1, [](const std::string&) {});
    ASSERT_TRUE(lock.ok()) << lock.error().message;
    EXPECT_EQ(fs::status(path).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  }
  fs::permissions(path, fs::perms::all);  // left world-writable by someone: tightened
  {
    auto lock = os::InstanceLock::acquire(path, false, 1, [](const std::string&) {});
    ASSERT_TRUE(lock.ok()) << lock.error().message;
    EXPECT_EQ(fs::status(path).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  }
  ::umask(old);
  const std::string target = dir.str() + "/victim";
  std::ofstream(target) << "keep me\n";
  const std::string link = dir.str() + "/linked.lock";
  fs::create_symlink(target, link);
  auto refused = os::InstanceLock::acquire(link, false, 1, [](const std::string&) {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("symbolic link"), std::string::npos)
      << refused.error().message;
  std::ifstream in(target);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "keep me");
}

TEST(InstanceLock, AFilePlantedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the file to another user";
  TempDir dir;
  const std::string path = dir.str() + "/freezr.lock";
  std::ofstream(path) << "1\n";
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  auto r = os::InstanceLock::acquire(path, true, 1, [](const std::string&) {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("owned by UID 65534"), std::string::npos) << r.error().message;
}

// A lock held elsewhere (here: another open file description) that names a process which is
// not the FreezR that took it: --replace must not signal it.
TEST(InstanceLock, ReplaceSignalsOnlyAProvenFreezr) {
  TempDir dir;
  const std::string path = dir.str() + "/freezr.lock";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::uint64_t start = 0;
  for (int i = 0; i < 200; ++i) {  // until the exec is done
    std::error_code ec;
    if (fs::read_symlink("/proc/" + std::to_string(child) + "/exe", ec).filename() == "sleep") {
      std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
      const std::string text((std::istreambuf_iterator<char>(stat)),
                             std::istreambuf_iterator<char>());
      start = proc::parse_stat(text)->start_time;
      break;
    }
    ::usleep(10000);
  }
  ASSERT_GT(start, 0U);
  const int holder = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(holder, 0);
  ASSERT_EQ(::flock(holder, LOCK_EX), 0);
  const auto write_lock = [&](const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  };
  const auto expect_refused = [&](const std::string& why) {
    auto r = os::InstanceLock::acquire(path, true, 1, [](const std::string&) {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
    EXPECT_EQ(::kill(child, 0), 0) << "the process named by the lock was signalled";
  };
  write_lock(std::to_string(child) + "\n");  // no start time: nothing proves who it is
  expect_refused("start time differs");
  write_lock(std::to_string(child) + " " + std::to_string(start + 1) + "\n");
  expect_refused("start time differs");
  write_lock(std::to_string(child) + " " + std::to_string(start) + "\n");
  expect_refused("not FreezR");
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(holder);
}

TEST(InstanceLock, SecondHolderIsRefusedWithThePid) {
  TempDir dir;
  const std::string path = dir.str() + "/freezr.lock";
  auto first = os::InstanceLock::acquire(path, false, 1, [](const std::string&) {});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(os::InstanceLock::read_holder(path).pid, getpid());
  auto second = os::InstanceLock::acquire(path, false, 1, [](const std::string&) {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, EWOULDBLOCK);
  EXPECT_NE(second.error().message.find("PID " + std::to_string(getpid())), std::string::npos);
  first = os::InstanceLock();  // released
  auto third = os::InstanceLock::acquire(path, false, 1, [](const std::string&) {});
  EXPECT_TRUE(third.ok());
}

TEST(Preflight, DiskUsage) {
  TempDir dir;
  auto u = disk_usage(dir.str());
  ASSERT_TRUE(u.ok());
  EXPECT_GT(u->total_bytes, 0U);
  EXPECT_GE(u->used_percent, 0.0);
  EXPECT_LE(u->used_percent, 100.0);
  EXPECT_FALSE(disk_usage("/nonexistent/dir").ok());
}

TEST(Preflight, HealthLine) {
  proc::MemInfo m;
  m.total_kb = 1000;
  m.available_kb = 250;
  proc::Pressure p;
  p.some.avg10 = 1.25;
  const auto line = health_line(proc::LoadAvg{0.5, 0.25, 0.125, 1, 10}, m, p, std::nullopt, p);
  EXPECT_EQ(line,
            "Load: 0.50 0.25 0.12, Memory: 75.0% used (0.0 GiB available), PSI some avg10: cpu "
            "1.25 io n/a memory 1.25");
  EXPECT_EQ(health_line(std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt),
            "PSI: not available");
}

TEST(Capabilities, TheUnitFileBoundsExactlyTheNeededSetAndTheEventsOne) {
  std::istringstream unit{std::string(systemd_unit_text())};
  std::string line, bounding;
  while (std::getline(unit, line)) {
    if (line.rfind("CapabilityBoundingSet=", 0) == 0) bounding = line.substr(22);
  }
  std::istringstream words(bounding);
  std::vector<std::string> listed;
  for (std::string w; words >> w;) listed.push_back(w);
  auto wanted = needed_capabilities();
  wanted.emplace_back(os::kEventsCapability);  // only until process events are subscribed
  EXPECT_EQ(listed, wanted);
}

}  // namespace
TEST(KernelOomWatch, ReadsKillsFromTheLogAfterItsStart) {
  const auto dir = std::filesystem::temp_directory_path() / ("kmsg-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "kmsg").string();
  std::ofstream(path) << "3,1,1,-;Out of memory: Killed process 11 (before) anon-rss:1kB\n";
  freezr::testing::FakeProcSource source;
  freezr::daemon::KernelOomWatch watch;
  EXPECT_EQ(watch.start(path, source), "");
  EXPECT_STREQ(watch.mode(), "kernel log");
  const auto none = freezr::testing::snap(1, {});
  EXPECT_TRUE(watch.poll(none).empty());  // what was there before the start is history
  std::ofstream(path, std::ios::app)
      << "6,2,2,-;eth0: link up\n3,3,3,-;Out of memory: Killed process 4242 (chrome) "
         "total-vm:9kB, anon-rss:512000kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:1kB "
         "oom_score_adj:300\n3,4,4,-;Out of memory: Killed process 43 (hal";
  auto kills = watch.poll(none);
  ASSERT_EQ(kills.size(), 1U);
  EXPECT_EQ(kills[0].kill.comm, "chrome");
  EXPECT_FALSE(kills[0].guessed);
  std::ofstream(path, std::ios::app) << "f) anon-rss:10kB\n";  // the rest of the record
  kills = watch.poll(none);
  ASSERT_EQ(kills.size(), 1U);
  EXPECT_EQ(kills[0].kill.comm, "half");
  EXPECT_EQ(watch.kills(), 2U);
  std::filesystem::remove_all(dir);
}

TEST(KernelOomWatch, WithoutTheLogTheCounterNamesTheLargestVanishedProcess) {
  freezr::testing::FakeProcSource source;
  source.system["vmstat"] = "nr_free_pages 1\noom_kill 5\n";
  freezr::daemon::KernelOomWatch watch;
  EXPECT_NE(watch.start("/nonexistent/kmsg", source).find("No such file"), std::string::npos);
  EXPECT_STREQ(watch.mode(), "vmstat");
  using freezr::testing::proc;
  EXPECT_TRUE(watch
                  .poll(freezr::testing::snap(1, {proc(10, "small", 0, 10), proc(11, "big", 0, 900),
                                                  proc(12, "stays", 0, 2000)}))
                  .empty());
  source.system["vmstat"] = "oom_kill 6\n";
  const auto kills = watch.poll(freezr::testing::snap(2, {proc(12, "stays", 0, 2000)}));
  ASSERT_EQ(kills.size(), 1U);
  EXPECT_TRUE(kills[0].guessed);
  EXPECT_EQ(kills[0].kill.pid, 11);
  EXPECT_EQ(kills[0].kill.comm, "big");
  EXPECT_EQ(kills[0].kill.anon_rss_kb, 900U * 1024);
  EXPECT_TRUE(watch.poll(freezr::testing::snap(3, {proc(12, "stays", 0, 2000)})).empty());
}

}  // namespace freezr::daemon

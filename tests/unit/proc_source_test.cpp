#include "proc/proc_source.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "proc/info_cache.h"

namespace freezr::proc {
namespace {

const std::string kRoot = std::string(FREEZR_FIXTURES) + "/proc";

TEST(FsProcSource, ListsNumericEntriesOnly) {
  FsProcSource src(kRoot);
  std::vector<Pid> pids;
  src.list_pids(pids);
  std::sort(pids.begin(), pids.end());
  EXPECT_EQ(pids, (std::vector<Pid>{1, 777, 4242, 31337}));
}

TEST(FsProcSource, MissingRootThrows) {
  EXPECT_THROW(FsProcSource("/nonexistent/proc-root"), std::system_error);
}

TEST(FsProcSource, VanishedProcessIsGone) {
  FsProcSource src(kRoot);
  std::string buf;
  auto r = src.read_pid_file(99999, "stat", buf);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().gone());
}

TEST(ReadAll, SkipsMalformedAndParsesHostileNames) {
  FsProcSource src(kRoot);
  RawScan scan;
  std::vector<Pid> pids;
  std::string buf;
  read_all(src, scan, pids, buf);
  EXPECT_EQ(scan.unreadable, 1U);  // 31337 is truncated
  ASSERT_EQ(scan.processes.size(), 3U);
  auto find = [&](Pid p) {
    return *std::find_if(scan.processes.begin(), scan.processes.end(),
                         [&](const StatFields& f) { return f.pid == p; });
  };
  EXPECT_EQ(find(4242).comm, "a) b (c");
  EXPECT_EQ(find(4242).nice, 5);
  EXPECT_EQ(find(777).comm, "evil\nname");
  ASSERT_TRUE(scan.meminfo);
  EXPECT_EQ(scan.meminfo->total_kb, 24562812U);
  EXPECT_EQ(scan.meminfo->swap_free_kb, 1048574U);
  ASSERT_TRUE(scan.loadavg);
  EXPECT_EQ(scan.loadavg->total, 612);
  ASSERT_TRUE(scan.memory_pressure);
  EXPECT_DOUBLE_EQ(scan.memory_pressure->some.avg10, 1.5);
}

TEST(ProcInfoCache, ReadsOnceAndForgets) {
  FsProcSource src(kRoot);
  ProcInfoCache cache(src);
  const ProcessId id{4242, 8214};
  EXPECT_EQ(cache.cmdline(id), "node /srv/app/server.js --port 8080");
  EXPECT_EQ(cache.uid(id), std::optional<std::uint32_t>(1000));
  EXPECT_EQ(cache.exe(id), "");  // no exe link in the fixture
  EXPECT_EQ(cache.size(), 1U);
  cache.retain({});
  EXPECT_EQ(cache.size(), 0U);
}

TEST(FsProcSource, ReadsExeLinkWithoutDeletedSuffix) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("freezr-exe-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "55");
  std::filesystem::create_symlink("/usr/bin/thing (deleted)", dir / "55" / "exe");
  FsProcSource src(dir.string());
  auto r = src.read_exe(55);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "/usr/bin/thing");
  EXPECT_LT(r->capacity(), 64U) << "kept per process: no room for a whole path buffer";
  std::filesystem::remove_all(dir);
}

TEST(ProcInfoCache, SeesACommandLineChangedByAnExec) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("freezr-exec-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "56");
  auto write = [&](const std::string& argv) {
    std::ofstream(dir / "56" / "cmdline", std::ios::trunc) << argv;
  };
  write(std::string("app\0--old\0", 10));
  FsProcSource src(dir.string());
  ProcInfoCache cache(src);
  const ProcessId id{56, 1};
  EXPECT_FALSE(cache.cmdline_changed(id));  // nothing read yet: nothing to compare
  EXPECT_EQ(cache.cmdline(id), "app --old");
  EXPECT_FALSE(cache.cmdline_changed(id));
  write(std::string("app\0--new\0", 10));
  EXPECT_TRUE(cache.cmdline_changed(id));
  std::filesystem::remove_all(dir / "56");
  EXPECT_FALSE(cache.cmdline_changed(id));  // gone is not a change
  std::filesystem::remove_all(dir);
}

TEST(ProcInfoCache, ProcessesOfOneCgroupShareOnePlacement) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("freezr-place-" + std::to_string(getpid()));
  for (const char* pid : {"60", "61", "62"}) std::filesystem::create_directories(dir / pid);
  std::ofstream(dir / "60" / "cgroup") << "0::/system.slice/web.service\n";
  std::ofstream(dir / "61" / "cgroup") << "0::/system.slice/web.service\n";
  std::ofstream(dir / "62" / "cgroup") << "0::/system.slice/db.service\n";
  FsProcSource src(dir.string());
  ProcInfoCache cache(src);
  auto a = cache.placement({60, 1});
  auto b = cache.placement({61, 1});
  auto c = cache.placement({62, 1});
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(a->unit, "web.service");
  EXPECT_NE(a.get(), c.get());
  EXPECT_EQ(c->unit, "db.service");
  // Once no process holds it, a placement is let go: a new process of that cgroup gets a new
  // one, read from its own file.
  a.reset();
  b.reset();
  cache.retain({{62, 1}});
  std::ofstream(dir / "61" / "cgroup", std::ios::trunc) << "0::/system.slice/other.service\n";
  EXPECT_EQ(cache.placement({61, 2})->unit, "other.service");
  EXPECT_EQ(cache.placement({62, 1}).get(), c.get());
  std::filesystem::remove_all(dir);
}

TEST(FsProcSource, RealProcHasThisProcess) {
  FsProcSource src("/proc");
  std::string buf;
  ASSERT_TRUE(src.read_pid_file(getpid(), "stat", buf).ok());
  auto st = parse_stat(buf);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->pid, getpid());
  auto exe = src.read_exe(getpid());
  ASSERT_TRUE(exe.ok());
  EXPECT_NE(exe->find("_tests"), std::string::npos);
}

// A child of the test, alive until ended: its PID is the test's own.
Pid start_child() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  return pid;
}

TEST(FsProcSource, KeptStatFilesAreReadAgainAndLetGoWhenTheProcessEnds) {
  FsProcSource src;
  src.keep_stat_open(2);
  const Pid a = start_child(), b = start_child(), c = start_child();
  std::string buf;
  for (Pid p : {a, b, c}) ASSERT_TRUE(src.read_pid_file(p, "stat", buf));
  EXPECT_EQ(src.stat_kept(), 2U);  // the budget: the third is read and closed
  ASSERT_TRUE(src.read_pid_file(a, "stat", buf));
  auto first = parse_stat(buf);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->pid, a);  // read again through the kept file, fresh
  ::kill(a, SIGKILL);
  ::waitpid(a, nullptr, 0);
  auto gone = src.read_pid_file(a, "stat", buf);
  ASSERT_FALSE(gone);  // the kept file of a reaped process never answers for another
  EXPECT_TRUE(gone.error().gone());
  EXPECT_EQ(src.stat_kept(), 1U);
  std::vector<Pid> pids;
  ::kill(b, SIGKILL);
  ::waitpid(b, nullptr, 0);
  src.list_pids(pids);  // a listing closes the files of processes no longer there
  EXPECT_EQ(src.stat_kept(), 0U);
  ::kill(c, SIGKILL);
  ::waitpid(c, nullptr, 0);
}

TEST(FsProcSource, ACopyOfProcIsNeverKeptOpen) {
  FsProcSource src(kRoot);
  src.keep_stat_open(100);
  std::string buf;
  ASSERT_TRUE(src.read_pid_file(4242, "stat", buf));
  EXPECT_EQ(src.stat_kept(), 0U);  // its files may be replaced between scans
}

}  // namespace
}  // namespace freezr::proc

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "act/cgroups.h"
#include "fs/files.h"
#include "store/database.h"
#include "store/ledger.h"

namespace freezr {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir()
      : path(fs::temp_directory_path() /
             ("freezr-sa-" + std::to_string(getpid()) + "-" + std::to_string(n++))) {
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static inline int n = 0;
  fs::path path;
};

TEST(Database, MigratesAndSurvivesReopen) {
  TempDir dir;
  const auto path = (dir.path / "freezr.db").string();
  int version = 0;
  {
    auto db = store::Database::open(path, false, nullptr);
    ASSERT_TRUE(db.ok()) << db.error().message;
    version = (*db)->schema_version();
    EXPECT_GE(version, 1);
  }
  auto db = store::Database::open(path, false, nullptr);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ((*db)->schema_version(), version);
}

TEST(Database, ACorruptFileIsMovedAsideAndANewOneStarted) {
  TempDir dir;
  const auto path = (dir.path / "freezr.db").string();
  std::ofstream(path) << std::string(8192, 'x');
  std::string note;
  auto db = store::Database::open(path, false, &note);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_NE(note.find("moved to"), std::string::npos) << note;
  int aside = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    aside += e.path().filename().string().find("freezr.db.corrupt-") == 0;
  }
  EXPECT_EQ(aside, 1);
}

TEST(Database, ALinkAtTheDatabasePathIsNotFollowed) {
  TempDir dir;
  const auto target = (dir.path / "unrelated").string();
  std::ofstream(target) << "unrelated\n";
  fs::create_symlink(target, dir.path / "freezr.db");
  auto db = store::Database::open((dir.path / "freezr.db").string(), false, nullptr);
  EXPECT_FALSE(db.ok());
  std::ifstream in(target);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "unrelated");
}

store::LedgerEntry entry(Pid pid, const char* kind) {
  return {0, {pid, 1000U + static_cast<unsigned>(pid)}, kind, "rule", "{}", 1.5};
}

TEST(Ledger, AFileOfItsOwnThatSurvivesReopenAndNeverReusesAnId) {
  TempDir dir;
  auto data = freezr::fs::Directory::open(dir.path.string());
  ASSERT_TRUE(data);
  std::int64_t first = 0;
  {
    store::Ledger ledger(&*data);
    EXPECT_TRUE(ledger.durable());
    EXPECT_TRUE(ledger.all().empty());
    auto a = ledger.add(entry(42, "freeze-signal"));
    ASSERT_TRUE(a) << a.error().message;
    first = *a;
    EXPECT_TRUE(ledger.remove(first));  // the highest id gone: not handed out again
    ASSERT_TRUE(ledger.add(entry(43, "renice")));
  }
  EXPECT_EQ(fs::status(dir.path / store::kLedgerFile).permissions(),
            fs::perms::owner_read | fs::perms::owner_write);
  store::Ledger again(&*data);
  const auto all = again.all();
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0].process.pid, 43);
  EXPECT_EQ(all[0].process.start_time, 1043U);
  EXPECT_EQ(all[0].kind, "renice");
  EXPECT_GT(all[0].id, first);
  EXPECT_TRUE(again.contains(all[0].id));
  EXPECT_FALSE(again.contains(first));
  EXPECT_FALSE(again.remove(first));
  EXPECT_TRUE(again.take_problems().empty());
}

TEST(Ledger, TwoProcessesShareItThroughTheFile) {
  TempDir dir;
  auto daemon_dir = freezr::fs::Directory::open(dir.path.string());
  auto cli_dir = freezr::fs::Directory::open(dir.path.string());
  ASSERT_TRUE(daemon_dir && cli_dir);
  store::Ledger daemon(&*daemon_dir), cli(&*cli_dir);
  const auto id = daemon.add(entry(7, "freeze-cgroup"));
  ASSERT_TRUE(id);
  ASSERT_EQ(cli.all().size(), 1U);
  EXPECT_TRUE(cli.remove(*id));  // `freezr thaw` while the daemon runs
  EXPECT_FALSE(daemon.contains(*id));
  const auto next = daemon.add(entry(8, "renice"));
  ASSERT_TRUE(next);
  EXPECT_NE(*next, *id);
}

TEST(Ledger, DamagedLinesAreDroppedAndReportedTheOthersStand) {
  auto a = entry(10, "freeze-signal"), b = entry(11, "renice");
  a.id = 1;
  b.id = 2;
  const auto good = store::render_ledger({5, {a, b}, {}});
  const auto lines = good.substr(good.find('\n') + 1);
  for (
      const auto& [text, problems] : std::vector<std::pair<std::string, std::size_t>>{
          {good, 0},
          {"garbage\n" + lines, 2},  // the line and the header: the ids still count
          {good + "{\"id\":\"x\"}\n", 1},
          {good + "not json at all\n", 1},
          {good +
               R"({"id":9,"pid":-4,"start_time":1,"kind":"renice","rule":"r","data":"{}","applied_at":1})"
               "\n",
           1},
          {good + R"({"id":9,"pid":4,"start_time":1,"kind":"renice","rule":"r","data":"{}"})"
                  "\n",
           1},
          {good + lines, 2},  // a second entry with each id
      }) {
    const auto f = store::parse_ledger(text);
    EXPECT_EQ(f.entries.size(), 2U) << text;
    EXPECT_EQ(f.problems.size(), problems) << text;
    EXPECT_GE(f.next_id, 3) << text;
  }
  const auto empty = store::parse_ledger("");
  EXPECT_TRUE(empty.entries.empty());
  ASSERT_EQ(empty.problems.size(), 1U);
  EXPECT_NE(empty.problems[0].find("empty"), std::string::npos);
}

TEST(Ledger, EntriesOfTheHistoryDatabaseMoveIntoTheFile) {
  TempDir dir;
  auto data = freezr::fs::Directory::open(dir.path.string());
  auto db = store::Database::open((dir.path / "freezr.db").string(), false, nullptr);
  ASSERT_TRUE(data && db);
  EXPECT_EQ((*db)->exec("INSERT INTO ledger (pid, start_time, kind, rule, data, applied_at) "
                        "VALUES (42, 777, 'freeze-signal', 'old', '{}', 1.5)"),
            "");
  store::Ledger ledger(&*data);
  auto moved = ledger.import_from(**db);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(*moved, 1);
  ASSERT_EQ(ledger.all().size(), 1U);
  EXPECT_EQ(ledger.all()[0].process.pid, 42);
  EXPECT_EQ(*ledger.import_from(**db), 0);  // the table is empty now
}

TEST(Ledger, InMemoryWithoutADirectory) {
  store::Ledger ledger;
  EXPECT_FALSE(ledger.durable());
  const auto a = ledger.add({0, {1, 2}, "renice", "r", "{}", 0});
  const auto b = ledger.add({0, {3, 4}, "throttle", "r", "{}", 0});
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(ledger.all().size(), 2U);
  EXPECT_TRUE(ledger.remove(*a));
  EXPECT_FALSE(ledger.contains(*a));
  EXPECT_TRUE(ledger.contains(*b));
}

TEST(Cgroups, RootsFromMountinfo) {
  const auto mounts = proc::parse_mountinfo(
      "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "32 30 0:29 / /sys/fs/cgroup/cpu\\040acct rw - cgroup cgroup rw,cpuacct\n"
      "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
      "garbage line\n");
  ASSERT_EQ(mounts.size(), 4U);
  EXPECT_EQ(mounts[2].mount_point, "/sys/fs/cgroup/cpu acct");
  const auto roots = act::find_cgroup_roots(mounts);
  EXPECT_EQ(roots.v2, "/sys/fs/cgroup/unified");
  EXPECT_EQ(roots.v1_cpu, "/sys/fs/cgroup/cpu");
  const auto pure = act::find_cgroup_roots(
      proc::parse_mountinfo("25 21 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"));
  EXPECT_EQ(pure.v2, "/sys/fs/cgroup");
  EXPECT_EQ(pure.v1_cpu, "");
}

TEST(Cgroups, ProcessCgroupPaths) {
  const std::string text =
      "12:cpu,cpuacct:/user.slice\n3:freezer:/\n0::/user.slice/user-1000.slice/app.scope\n";
  EXPECT_EQ(proc::parse_cgroup_path(text, ""), "/user.slice/user-1000.slice/app.scope");
  EXPECT_EQ(proc::parse_cgroup_path(text, "cpu"), "/user.slice");
  EXPECT_EQ(proc::parse_cgroup_path(text, "cpuacct"), "/user.slice");
  EXPECT_EQ(proc::parse_cgroup_path(text, "memory"), std::nullopt);
  EXPECT_EQ(proc::parse_cgroup_path("garbage", ""), std::nullopt);
}

// Constructing touches nothing: FreezR's groups appear only at setup().
TEST(Cgroups, NothingIsCreatedBeforeSetup) {
  TempDir dir;
  const auto v2 = dir.path / "unified";
  fs::create_directories(v2);
  std::ofstream(v2 / "cgroup.controllers") << "cpu\n";
  act::Cgroups cg({v2.string(), ""});
  EXPECT_FALSE(fs::exists(v2 / "freezr"));
  cg.setup();
  EXPECT_TRUE(fs::is_directory(v2 / "freezr"));
}

// An injected cgroup tree: plain directories and files standing in for cgroupfs.
TEST(Cgroups, InjectedRootsDecideWhatIsPossible) {
  TempDir dir;
  const auto v2 = dir.path / "unified";
  const auto v1 = dir.path / "cpu";
  fs::create_directories(v2 / "freezr");
  fs::create_directories(v1 / "freezr");
  std::ofstream(v2 / "cgroup.controllers") << "memory pids\n";
  std::ofstream(v2 / "freezr" / "cgroup.freeze") << "0\n";
  std::ofstream(v1 / "freezr" / "cpu.cfs_quota_us") << "-1\n";
  act::Cgroups cg({v2.string(), v1.string()});
  EXPECT_FALSE(cg.can_freeze());  // nothing is tried before setup()
  EXPECT_NE(cg.describe().find("not set up"), std::string::npos);
  cg.setup();
  EXPECT_TRUE(cg.can_freeze());
  EXPECT_FALSE(cg.can_throttle_v2());  // no cpu controller in v2
  EXPECT_TRUE(cg.can_throttle_v1());
  EXPECT_NE(cg.describe().find("cpu.cfs_quota_us (v1)"), std::string::npos);
  auto group = cg.make(false, act::safe_name("my rule/1"));
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(*group, (v1 / "freezr" / "my_rule_1").string());
  EXPECT_EQ(cg.origin("4:cpu:/a/b\n0::/x\n", false), v1.string() + "/a/b");
  EXPECT_EQ(cg.origin("0::/\n", true), v2.string());

  act::Cgroups none({"", ""});
  none.setup();
  EXPECT_FALSE(none.can_freeze());
  EXPECT_NE(none.describe().find("falls back to renice"), std::string::npos);
}

}  // namespace
}  // namespace freezr

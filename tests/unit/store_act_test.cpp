#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "act/cgroups.h"
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
  {
    auto db = store::Database::open(path, false, nullptr);
    ASSERT_TRUE(db.ok()) << db.error().message;
    EXPECT_GE((*db)->schema_version(), 1);
    store::Ledger ledger(db->get());
    std::string err;
    const auto id = ledger.add({0, {42, 777}, "freeze-signal", "rule", "{}", 1.5}, &err);
    EXPECT_GT(id, 0) << err;
  }
  auto db = store::Database::open(path, false, nullptr);
  ASSERT_TRUE(db.ok());
  store::Ledger ledger(db->get());
  const auto all = ledger.all();
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0].process.pid, 42);
  EXPECT_EQ(all[0].process.start_time, 777U);
  EXPECT_EQ(all[0].kind, "freeze-signal");
  EXPECT_TRUE(ledger.contains(all[0].id));
  EXPECT_TRUE(ledger.remove(all[0].id));
  EXPECT_FALSE(ledger.remove(all[0].id));
  EXPECT_TRUE(ledger.all().empty());
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
  store::Ledger ledger(db->get());
  EXPECT_TRUE(ledger.all().empty());
}

TEST(Ledger, InMemoryWithoutADatabase) {
  store::Ledger ledger(nullptr);
  EXPECT_FALSE(ledger.durable());
  const auto a = ledger.add({0, {1, 2}, "renice", "r", "{}", 0}, nullptr);
  const auto b = ledger.add({0, {3, 4}, "throttle", "r", "{}", 0}, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(ledger.all().size(), 2U);
  EXPECT_TRUE(ledger.remove(a));
  EXPECT_FALSE(ledger.contains(a));
  EXPECT_TRUE(ledger.contains(b));
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

#include "scan/scanner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

namespace freezr::scan {
namespace {

// An in-memory /proc: stat lines by PID, counting what is read.
class MemProc final : public proc::ProcSource {
 public:
  std::map<Pid, std::string> stat;
  std::map<std::pair<Pid, std::string>, std::string> files;  // io, smaps_rollup
  int stat_reads = 0;
  std::map<std::string, int> reads;

  void set(Pid pid, const std::string& comm, std::uint64_t utime, Pid ppid = 1,
           std::uint64_t start = 0) {
    stat[pid] = std::to_string(pid) + " (" + comm + ") S " + std::to_string(ppid) +
                " 1 1 0 -1 4194560 0 0 0 0 " + std::to_string(utime) + " 0 0 0 20 0 1 0 " +
                std::to_string(start != 0 ? start : 1000 + pid) + " 1000000 256 0";
  }
  void list_pids(std::vector<Pid>& out) override {
    out.clear();
    for (const auto& [pid, _] : stat) out.push_back(pid);
  }
  Result<bool> read_pid_file(Pid pid, const char* name, std::string& buf) override {
    if (std::string(name) != "stat") {
      auto f = files.find({pid, name});
      if (f == files.end()) return Error{ENOENT, "no"};
      ++reads[name];
      buf = f->second;
      return true;
    }
    auto it = stat.find(pid);
    if (it == stat.end()) return Error{ENOENT, "gone"};
    ++stat_reads;
    buf = it->second;
    return true;
  }
  Result<std::string> read_exe(Pid) override { return Error{ENOENT, "no"}; }
  Result<std::string> read_system_file(const char*) override { return Error{ENOENT, "no"}; }
  [[nodiscard]] long clock_ticks() const override { return 100; }
  [[nodiscard]] long page_size() const override { return 4096; }
};

TEST(Scanner, LightScanReadsOnlyTheGivenProcessesAndKeepsTheRest) {
  MemProc src;
  std::vector<engine::Rule> rules(1);
  rules[0].name = "watched";
  rules[0].match.comm = {"watched"};
  rules[0].steps.resize(1);
  for (Pid p = 10; p < 20; ++p) src.set(p, "idle", 0);
  src.set(30, "watched", 0);
  src.set(40, "busy", 0);
  Scanner scanner(src, &rules);
  auto full = scanner.scan(0);
  EXPECT_TRUE(full.full);
  EXPECT_EQ(full.read, 12U);
  src.set(30, "watched", 50);  // 50% over 1 s
  src.set(40, "busy", 100);    // busy, but not read by a light scan
  src.stat.erase(15);          // exited
  src.set(50, "watched", 0);   // new, announced by an event
  src.stat_reads = 0;
  auto light = scanner.scan_some(1, {30, 50}, {15});
  EXPECT_FALSE(light.full);
  EXPECT_EQ(src.stat_reads, 2);
  EXPECT_EQ(light.snap.processes.size(), 12U);  // 12 - 1 exited + 1 new
  ASSERT_EQ(light.cls.members[0].size(), 2U);
  auto find = [&](Pid pid) -> const engine::ProcessSample* {
    for (const auto& p : light.snap.processes) {
      if (p.id.pid == pid) return &p;
    }
    return nullptr;
  };
  EXPECT_EQ(find(15), nullptr);
  ASSERT_NE(find(30), nullptr);
  EXPECT_NEAR(find(30)->cpu_percent, 50, 1e-9);
  ASSERT_NE(find(40), nullptr);
  EXPECT_DOUBLE_EQ(find(40)->cpu_percent, 0) << "its last sample, not re-read";
  // The next full scan measures the busy one over the 2 s since its last read.
  auto again = scanner.scan(2);
  for (const auto& p : again.snap.processes) {
    if (p.id.pid == 40) EXPECT_NEAR(p.cpu_percent, 50, 1e-9);
  }
}

// The PIDs of rule r's members, sorted.
std::vector<Pid> member_pids(const ScanResult& r, std::size_t rule) {
  std::vector<Pid> out;
  for (auto idx : r.cls.members[rule]) out.push_back(r.snap.processes[idx].id.pid);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Scanner, LightScansKeepTheTableAndItsVerdictsRightAsProcessesComeAndGo) {
  MemProc src;
  std::vector<engine::Rule> rules(2);
  rules[0].name = "watched";
  rules[0].match.comm = {"watched"};
  rules[0].steps.resize(1);
  rules[1].name = "by-line";
  rules[1].match.cmdline = engine::Regex::compile("--serve").value();
  rules[1].steps.resize(1);
  for (Pid p = 10; p < 16; ++p) src.set(p, "idle", 0);
  src.set(20, "watched", 0);
  src.set(21, "watched", 0);
  src.set(22, "worker", 0);
  src.files[{22, "cmdline"}] = std::string("worker\0--idle\0", 14);
  src.files[{20, "cgroup"}] = "0::/system.slice/w20.service\n";
  src.files[{21, "cgroup"}] = "0::/system.slice/w21.service\n";
  Scanner scanner(src, &rules);
  const auto& full = scanner.scan(0);
  EXPECT_EQ(member_pids(full, 0), (std::vector<Pid>{20, 21}));
  EXPECT_TRUE(full.cls.members[1].empty());
  // 20 exits: the last process takes its place, and verdicts, indices and places follow.
  src.stat.erase(20);
  src.set(30, "watched", 0);  // new
  const auto& one = scanner.scan_some(1, {21, 30}, {20});
  EXPECT_EQ(one.snap.processes.size(), 9U);
  EXPECT_EQ(member_pids(one, 0), (std::vector<Pid>{21, 30}));
  for (std::size_t i = 0; i < one.snap.processes.size(); ++i) {
    const auto& p = one.snap.processes[i];
    EXPECT_EQ(one.cls.first_rule[i], p.comm == "watched" ? 0 : -1) << p.id.pid;
    if (p.id.pid == 21) {
      ASSERT_TRUE(p.place);
      EXPECT_EQ(p.place->unit, "w21.service");
    }
  }
  // 22 exec'd under the same name with another command line: renewed, it is matched afresh.
  src.files[{22, "cmdline"}] = std::string("worker\0--serve\0", 15);
  scanner.renew({22});
  const auto& two = scanner.scan_some(2, {21, 22, 30}, {});
  EXPECT_EQ(member_pids(two, 1), (std::vector<Pid>{22}));
  // 21's PID is reused by another program: no longer a member; its old place is not kept.
  src.set(21, "other", 0, 1, 99999);
  src.files[{21, "cgroup"}] = "0::/system.slice/other.service\n";
  const auto& three = scanner.scan_some(3, {21, 30}, {21});
  EXPECT_EQ(member_pids(three, 0), (std::vector<Pid>{30}));
  for (const auto& p : three.snap.processes) {
    if (p.id.pid == 21) EXPECT_EQ(p.place->unit, "other.service");
  }
  // A process not read keeps its verdict; one renamed and read is matched by its new name.
  src.set(30, "renamed", 0);
  const auto& four = scanner.scan_some(4, {22, 30}, {});
  EXPECT_TRUE(four.cls.members[0].empty());
  EXPECT_EQ(member_pids(four, 1), (std::vector<Pid>{22}));
  // A full scan agrees with what the light ones built.
  const auto light_table = four.snap.processes.size();
  const auto& again = scanner.scan(5);
  EXPECT_EQ(again.snap.processes.size(), light_table);
  EXPECT_TRUE(again.cls.members[0].empty());
  EXPECT_EQ(member_pids(again, 1), (std::vector<Pid>{22}));
}

TEST(Scanner, ALightScanAfterTheRulesChangedIsFull) {
  MemProc src;
  src.set(10, "a", 0);
  src.set(11, "b", 0);
  std::vector<engine::Rule> rules(1);
  rules[0].name = "a";
  rules[0].match.comm = {"a"};
  rules[0].steps.resize(1);
  Scanner scanner(src, &rules);
  scanner.scan(0);
  std::vector<engine::Rule> next(2, rules[0]);
  next[1].name = "b";
  next[1].match.comm = {"b"};
  scanner.reset_rules(&next);
  const auto& r = scanner.scan_some(1, {}, {});
  EXPECT_TRUE(r.full);
  ASSERT_EQ(r.cls.members.size(), 2U);
  EXPECT_EQ(member_pids(r, 1), (std::vector<Pid>{11}));
  EXPECT_FALSE(scanner.scan_some(2, {}, {}).full);
}

TEST(Scanner, LightScanBeforeAnyFullScanIsFull) {
  MemProc src;
  src.set(10, "a", 0);
  std::vector<engine::Rule> rules;
  Scanner scanner(src, &rules);
  auto r = scanner.scan_some(0, {}, {});
  EXPECT_TRUE(r.full);
  EXPECT_EQ(r.snap.processes.size(), 1U);
}

TEST(Scanner, ReadsIoAndSmapsOnlyForTheRulesThatUseThem) {
  MemProc src;
  std::vector<engine::Rule> rules(2);
  rules[0].name = "writer";
  rules[0].match.comm = {"writer"};
  rules[0].steps.resize(1);
  rules[0].steps[0].io_write_mbps = 10;
  rules[1].name = "shared";
  rules[1].match.comm = {"shared"};
  rules[1].memory_metric = engine::MemoryMetric::kPss;
  rules[1].steps.resize(1);
  rules[1].steps[0].memory_mb = 10;
  auto io = [](std::uint64_t w) {
    return "rchar: 0\nread_bytes: 0\nwrite_bytes: " + std::to_string(w) + "\n";
  };
  src.set(10, "writer", 0);
  src.set(11, "shared", 0);
  src.set(12, "other", 0);
  for (Pid p : {10, 11, 12}) {
    src.files[{p, "io"}] = io(0);
    src.files[{p, "smaps_rollup"}] =
        "Rss: 1024 kB\nPss: 512 kB\nPrivate_Clean: 0 kB\nPrivate_Dirty: 256 kB\nSwap: 0 kB\n";
  }
  Scanner scanner(src, &rules);
  auto first = scanner.scan(0);
  src.files[{10, "io"}] = io(30 * 1024 * 1024);
  auto second = scanner.scan(2);
  EXPECT_EQ(src.reads["io"], 6);  // at a full scan the busiest are read too: here all three
  EXPECT_EQ(src.reads["smaps_rollup"], 2);  // the shared one, twice
  auto find = [](const ScanResult& r, Pid pid) {
    for (const auto& p : r.snap.processes) {
      if (p.id.pid == pid) return p;
    }
    return engine::ProcessSample{};
  };
  EXPECT_FALSE(find(first, 10).io_write_bps);  // one reading is no rate
  ASSERT_TRUE(find(second, 10).io_write_bps);
  EXPECT_DOUBLE_EQ(*find(second, 10).io_write_bps, 15.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(find(second, 11).memory_mb(engine::MemoryMetric::kPss), 0.5);
  EXPECT_DOUBLE_EQ(find(second, 11).memory_mb(engine::MemoryMetric::kUss), 0.25);
  EXPECT_FALSE(find(second, 12).memory);
  EXPECT_DOUBLE_EQ(find(second, 12).io_write_bps.value_or(-1), 0);  // read: one of the busiest
  // Malformed files are skipped, not trusted.
  src.files[{10, "io"}] = "write_bytes: lots\n";
  src.files[{11, "smaps_rollup"}] = "Pss: 9 kB\n";
  auto third = scanner.scan(4);
  EXPECT_FALSE(find(third, 10).io_write_bps);
  EXPECT_FALSE(find(third, 11).memory);
}

TEST(Scanner, AtAFullScanTheBusiestProcessesDiskIoIsReadForTheTopTablesAndNoOthers) {
  MemProc src;
  std::vector<engine::Rule> rules;
  const Pid n = static_cast<Pid>(kTopIo) + 10;
  for (Pid p = 100; p < 100 + n; ++p) {
    src.set(p, "p" + std::to_string(p), 0);
    src.files[{p, "io"}] = "read_bytes: 0\nwrite_bytes: 0\n";
  }
  Scanner scanner(src, &rules);
  scanner.scan(0);
  src.reads.clear();
  // The last kTopIo use CPU; the first ten stay idle.
  for (Pid p = 100 + 10; p < 100 + n; ++p) {
    src.set(p, "p" + std::to_string(p), 100);
    src.files[{p, "io"}] = "read_bytes: 0\nwrite_bytes: 2097152\n";
  }
  scanner.scan(2);  // now the busy ones are the busiest: read for the first time
  EXPECT_EQ(src.reads["io"], static_cast<int>(kTopIo));
  src.reads.clear();
  for (Pid p = 100 + 10; p < 100 + n; ++p) {
    src.set(p, "p" + std::to_string(p), 200);
    src.files[{p, "io"}] = "read_bytes: 0\nwrite_bytes: 4194304\n";
  }
  const auto r = scanner.scan(4);
  EXPECT_EQ(src.reads["io"], static_cast<int>(kTopIo));
  for (const auto& p : r.snap.processes) {
    if (p.id.pid >= 110) {
      ASSERT_TRUE(p.io_write_bps) << p.id.pid;  // read at both full scans: a rate
      EXPECT_DOUBLE_EQ(*p.io_write_bps, 1048576.0);
    } else {
      EXPECT_FALSE(p.io_write_bps) << p.id.pid;
    }
  }
  // A light scan reads none of them, and keeps their last rate.
  src.reads.clear();
  const auto light = scanner.scan_some(6, {}, {});
  EXPECT_EQ(src.reads["io"], 0);
  EXPECT_TRUE(light.snap.processes.back().io_write_bps);
}

TEST(Scanner, ReadsTheCgroupPressureOfTheProcessesWhoseGatesAskOnceAPerCgroup) {
  const auto root =
      std::filesystem::temp_directory_path() / ("freezr-cgroup-psi-" + std::to_string(::getpid()));
  auto pressure = [&](const std::string& dir, double memory) {
    std::filesystem::create_directories(root / dir);
    std::ofstream(root / dir / "cpu.pressure")
        << "some avg10=1.00 avg60=0.00 avg300=0.00 total=1\n";
    std::ofstream(root / dir / "memory.pressure")
        << "some avg10=" << memory << " avg60=0.00 avg300=0.00 total=1\n"
        << "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
    std::ofstream(root / dir / "io.pressure") << "garbage\n";
  };
  pressure("tenant-a", 65.5);
  pressure("tenant-b", 3);
  MemProc src;
  std::vector<engine::Rule> rules(1);
  rules[0].name = "tenants";
  rules[0].match.comm = {"worker"};
  rules[0].pressure_of = engine::PressureScope::kCgroup;
  rules[0].steps.resize(1);
  rules[0].steps[0].memory_pressure = 30;
  src.set(10, "worker", 0);
  src.set(11, "worker", 0);
  src.set(12, "worker", 0);
  src.set(13, "other", 0);
  src.files[{10, "cgroup"}] = "4:memory:/x\n0::/tenant-a\n";
  src.files[{11, "cgroup"}] = "0::/tenant-a\n";
  src.files[{12, "cgroup"}] = "0::/tenant-b\n";
  src.files[{13, "cgroup"}] = "0::/tenant-b\n";
  Scanner scanner(src, &rules);
  scanner.set_cgroup_root(root.string());
  const auto r = scanner.scan(0);
  auto find = [&](Pid pid) {
    for (const auto& p : r.snap.processes) {
      if (p.id.pid == pid) return p;
    }
    return engine::ProcessSample{};
  };
  ASSERT_TRUE(find(10).cgroup_pressure);
  EXPECT_DOUBLE_EQ(*(*find(10).cgroup_pressure)[2], 65.5);
  EXPECT_DOUBLE_EQ(*(*find(10).cgroup_pressure)[0], 1.0);
  EXPECT_FALSE((*find(10).cgroup_pressure)[1]);  // a file that does not parse: unknown
  EXPECT_DOUBLE_EQ(*(*find(12).cgroup_pressure)[2], 3.0);
  EXPECT_FALSE(find(13).cgroup_pressure);  // under no such rule: not read
  // Once each for where it lives (all four), once for the gates' cgroups (three).
  EXPECT_EQ(src.reads["cgroup"], 7);
  // The next scan reads only the gates' cgroups again: a process can move.
  scanner.scan(1);
  EXPECT_EQ(src.reads["cgroup"], 10);
  // Without a cgroup v2 root nothing is read.
  Scanner blind(src, &rules);
  EXPECT_FALSE(blind.scan(0).snap.processes[0].cgroup_pressure);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace freezr::scan

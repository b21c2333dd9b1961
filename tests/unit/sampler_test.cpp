#include "engine/sampler.h"

#include <gtest/gtest.h>

namespace freezr::engine {
namespace {

proc::StatFields stat(Pid pid, std::uint64_t start, std::uint64_t utime, std::uint64_t stime,
                      std::int64_t rss_pages = 256) {
  proc::StatFields f;
  f.pid = pid;
  f.comm = "p" + std::to_string(pid);
  f.state = 'R';
  f.ppid = 1;
  f.start_time = start;
  f.utime = utime;
  f.stime = stime;
  f.rss_pages = rss_pages;
  return f;
}

TEST(Sampler, FirstScanHasNoCpuThenDeltaOverWallTime) {
  Sampler s(100, 4096);
  proc::RawScan raw;
  raw.processes = {stat(10, 5, 100, 50)};
  auto a = s.update(raw, 1000.0);
  ASSERT_EQ(a.processes.size(), 1U);
  EXPECT_FALSE(a.processes[0].cpu_valid);
  EXPECT_DOUBLE_EQ(a.interval, 0.0);
  EXPECT_DOUBLE_EQ(a.processes[0].rss_mb(), 1.0);  // 256 pages of 4 KiB

  // 150 more ticks (1.5 s of CPU at 100 Hz) over 2 s of wall time = 75% of one core.
  raw.processes = {stat(10, 5, 200, 100)};
  auto b = s.update(raw, 1002.0);
  EXPECT_TRUE(b.processes[0].cpu_valid);
  EXPECT_DOUBLE_EQ(b.interval, 2.0);
  EXPECT_NEAR(b.processes[0].cpu_percent, 75.0, 1e-9);
}

TEST(Sampler, MultiThreadedProcessCanExceedOneCore) {
  Sampler s(100, 4096);
  proc::RawScan raw;
  raw.processes = {stat(10, 5, 0, 0)};
  s.update(raw, 0.0);
  raw.processes = {stat(10, 5, 250, 50)};  // 3 s of CPU in 1 s
  auto b = s.update(raw, 1.0);
  EXPECT_NEAR(b.processes[0].cpu_percent, 300.0, 1e-9);
}

TEST(Sampler, ReusedPidIsANewProcessWithoutHistory) {
  Sampler s(100, 4096);
  proc::RawScan raw;
  raw.processes = {stat(10, 5, 1000, 0)};
  s.update(raw, 0.0);
  raw.processes = {stat(10, 777, 20, 0)};  // same PID, other start time
  auto b = s.update(raw, 1.0);
  EXPECT_FALSE(b.processes[0].cpu_valid);
  EXPECT_DOUBLE_EQ(b.processes[0].cpu_percent, 0.0);
  EXPECT_EQ(b.processes[0].id.start_time, 777U);
}

TEST(Sampler, VanishedProcessesAreForgotten) {
  Sampler s(100, 4096);
  proc::RawScan raw;
  raw.processes = {stat(10, 5, 0, 0)};
  s.update(raw, 0.0);
  raw.processes = {};
  s.update(raw, 1.0);
  raw.processes = {stat(10, 5, 100, 0)};
  auto c = s.update(raw, 2.0);
  EXPECT_FALSE(c.processes[0].cpu_valid);
}

TEST(Sampler, KernelThreadsAndZombiesAreMarked) {
  Sampler s(100, 4096);
  proc::RawScan raw;
  auto k = stat(2, 1, 0, 0);
  k.flags = 0x00200000;
  auto z = stat(30, 1, 0, 0);
  z.state = 'Z';
  raw.processes = {k, z};
  auto a = s.update(raw, 0.0);
  EXPECT_TRUE(a.processes[0].kernel_thread);
  EXPECT_FALSE(a.processes[1].alive());
}

}  // namespace
}  // namespace freezr::engine

namespace freezr::engine {
namespace {

proc::StatFields child_of(Pid pid, Pid ppid, std::uint64_t own, std::int64_t reaped) {
  auto f = stat(pid, 9, own, 0);
  f.ppid = ppid;
  f.cutime = reaped;
  return f;
}

TEST(SamplerChildren, ReapedChildrenAreChargedToTheParent) {
  Sampler s(100, 4096);
  proc::RawScan raw;
  raw.processes = {child_of(10, 1, 0, 0)};
  s.update(raw, 0.0);
  // In 2 s the parent forked and reaped many short children: 180 ticks of theirs.
  raw.processes = {child_of(10, 1, 10, 180)};
  auto b = s.update(raw, 2.0);
  EXPECT_NEAR(b.processes[0].cpu_percent, 5.0, 1e-9);
  EXPECT_NEAR(b.processes[0].child_cpu_percent, 90.0, 1e-9);
  EXPECT_NEAR(b.processes[0].total_cpu(), 95.0, 1e-9);
}

TEST(SamplerChildren, AChildAlreadySeenIsNotCountedTwice) {
  Sampler s(100, 4096);
  proc::RawScan raw;
  raw.processes = {child_of(10, 1, 0, 0), child_of(11, 10, 50, 0)};
  s.update(raw, 0.0);
  raw.processes = {child_of(10, 1, 0, 0), child_of(11, 10, 150, 0)};  // child: 50%
  auto b = s.update(raw, 2.0);
  EXPECT_NEAR(b.processes[1].cpu_percent, 50.0, 1e-9);
  // The child ran 40 more ticks, exited, and was reaped: the parent's cutime grows by its
  // whole 190; only the 40 not yet seen count.
  raw.processes = {child_of(10, 1, 0, 190)};
  auto c = s.update(raw, 4.0);
  ASSERT_EQ(c.processes.size(), 1U);
  EXPECT_NEAR(c.processes[0].child_cpu_percent, 20.0, 1e-9);
}

TEST(SamplerChildren, PartialScanKeepsUnreadProcessesAndTimesEachOnItsOwn) {
  Sampler s(100, 4096);
  proc::RawScan raw;
  raw.processes = {stat(10, 5, 0, 0), stat(20, 5, 0, 0)};
  s.update(raw, 0.0);
  raw.processes = {stat(10, 5, 100, 0)};  // only 10 is read at t=1
  auto b = s.update(raw, 1.0, true, {});
  EXPECT_NEAR(b.processes[0].cpu_percent, 100.0, 1e-9);
  // 20 was not read but is not gone: at t=4 its CPU is over the 4 s since its last sample.
  raw.processes = {stat(10, 5, 100, 0), stat(20, 5, 200, 0)};
  auto c = s.update(raw, 4.0);
  EXPECT_NEAR(c.processes[1].cpu_percent, 50.0, 1e-9);
}

}  // namespace
}  // namespace freezr::engine

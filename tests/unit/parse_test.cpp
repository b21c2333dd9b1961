#include "proc/parse.h"

#include <gtest/gtest.h>

namespace freezr::proc {
namespace {

constexpr const char* kPlainStat =
    "1234 (bash) S 1 1234 1234 34816 1234 4194560 97 0 0 0 300 100 5 7 20 -5 3 0 8214 "
    "5623808 230 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";

TEST(ParseStat, ReadsTheFieldsFreezRUses) {
  auto r = parse_stat(kPlainStat);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->pid, 1234);
  EXPECT_EQ(r->comm, "bash");
  EXPECT_EQ(r->state, 'S');
  EXPECT_EQ(r->ppid, 1);
  EXPECT_EQ(r->pgrp, 1234);
  EXPECT_EQ(r->utime, 300U);
  EXPECT_EQ(r->stime, 100U);
  EXPECT_EQ(r->cutime, 5);
  EXPECT_EQ(r->cstime, 7);
  EXPECT_EQ(r->nice, -5);
  EXPECT_EQ(r->num_threads, 3);
  EXPECT_EQ(r->start_time, 8214U);
  EXPECT_EQ(r->vsize, 5623808U);
  EXPECT_EQ(r->rss_pages, 230);
  EXPECT_FALSE(r->kernel_thread());
}

TEST(ParseStat, CommWithParenthesesAndSpacesIsCutAtTheLastParen) {
  auto r = parse_stat("42 (a) b (c) R 7 42 42 0 -1 0 0 0 0 0 11 22 0 0 20 0 1 0 99 0 5");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->comm, "a) b (c");
  EXPECT_EQ(r->state, 'R');
  EXPECT_EQ(r->ppid, 7);
  EXPECT_EQ(r->utime, 11U);
  EXPECT_EQ(r->stime, 22U);
  EXPECT_EQ(r->start_time, 99U);
}

TEST(ParseStat, CommWithNewlineAndEmptyComm) {
  auto r = parse_stat("9 (evil\nname) S 1 9 9 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->comm, "evil\nname");
  auto e = parse_stat("9 () S 1 9 9 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->comm, "");
}

TEST(ParseStat, KernelThreadFlag) {
  auto r = parse_stat("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 3 0 0 20 0 1 0 2 0 0");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->kernel_thread());
}

TEST(ParseStat, RejectsTruncatedAndGarbage) {
  EXPECT_FALSE(parse_stat("").ok());
  EXPECT_FALSE(parse_stat("garbage").ok());
  EXPECT_FALSE(parse_stat("12 (x) S 1 2 3").ok());
  EXPECT_FALSE(parse_stat("12 x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21").ok());
  EXPECT_FALSE(parse_stat("ab (x) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 1").ok());
  EXPECT_FALSE(parse_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 1z 1 0 0 20 0 1 0 5 0 1").ok());
  EXPECT_FALSE(parse_stat("1 (x) SS 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 1").ok());
  const std::string binary("1 (x)\0S\xff 1 1 1", 15);
  EXPECT_FALSE(parse_stat(binary).ok());
}

TEST(ParseStatusUid, ReadsTheRealUid) {
  auto r = parse_status_uid("Name:\tx\nPid:\t5\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1000U);
  EXPECT_FALSE(parse_status_uid("Name:\tx\n").ok());
  EXPECT_FALSE(parse_status_uid("Uid:\tabc\n").ok());
}

TEST(JoinCmdline, NulsBecomeSpacesTrailingDropped) {
  EXPECT_EQ(join_cmdline(std::string_view("node\0app.js\0--x\0", 16)), "node app.js --x");
  EXPECT_EQ(join_cmdline(""), "");
  EXPECT_EQ(join_cmdline(std::string_view("\0\0", 2)), "");
}

TEST(ParseMeminfo, ReadsTotalsAndSwap) {
  auto r = parse_meminfo(
      "MemTotal:       1000 kB\nMemFree: 100 kB\nMemAvailable:    250 kB\nSwapTotal: 400 kB\n"
      "SwapFree: 100 kB\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->total_kb, 1000U);
  EXPECT_EQ(r->available_kb, 250U);
  EXPECT_EQ(r->swap_total_kb, 400U);
  EXPECT_EQ(r->swap_free_kb, 100U);
  EXPECT_DOUBLE_EQ(r->used_percent(), 75.0);
}

TEST(ParseMeminfo, RejectsMissingOrInconsistent) {
  EXPECT_FALSE(parse_meminfo("MemTotal: 1000 kB\n").ok());
  EXPECT_FALSE(parse_meminfo("").ok());
  EXPECT_FALSE(parse_meminfo("MemTotal: 10 kB\nMemAvailable: 20 kB\n").ok());
}

TEST(ParseLoadavg, ReadsAllFields) {
  auto r = parse_loadavg("0.52 1.58 2.59 3/612 12345\n");
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->one, 0.52);
  EXPECT_DOUBLE_EQ(r->five, 1.58);
  EXPECT_DOUBLE_EQ(r->fifteen, 2.59);
  EXPECT_EQ(r->running, 3);
  EXPECT_EQ(r->total, 612);
  EXPECT_FALSE(parse_loadavg("0.5 0.5").ok());
  EXPECT_FALSE(parse_loadavg("a b c 1/2 3").ok());
  EXPECT_FALSE(parse_loadavg("0.1 0.2 0.3 12 3").ok());
}

TEST(ParsePressure, SomeAndFull) {
  auto r = parse_pressure(
      "some avg10=1.50 avg60=0.80 avg300=0.10 total=123456\n"
      "full avg10=0.50 avg60=0.20 avg300=0.00 total=65432\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_DOUBLE_EQ(r->some.avg10, 1.5);
  EXPECT_DOUBLE_EQ(r->some.avg300, 0.1);
  EXPECT_EQ(r->some.total_us, 123456U);
  ASSERT_TRUE(r->full.has_value());
  EXPECT_DOUBLE_EQ(r->full->avg10, 0.5);
}

TEST(ParsePressure, MissingFullLineOnOlderKernels) {
  auto r = parse_pressure("some avg10=3.00 avg60=2.00 avg300=1.00 total=999\n");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->full.has_value());
  EXPECT_DOUBLE_EQ(r->some.avg60, 2.0);
}

TEST(ParsePressure, RejectsGarbage) {
  EXPECT_FALSE(parse_pressure("").ok());
  EXPECT_FALSE(parse_pressure("full avg10=0 avg60=0 avg300=0 total=0\n").ok());
  EXPECT_FALSE(parse_pressure("some avg10=x avg60=0 avg300=0 total=0\n").ok());
  EXPECT_FALSE(parse_pressure("some avg10=1 avg60=0\n").ok());
  EXPECT_FALSE(parse_pressure("bogus avg10=1 avg60=0 avg300=0 total=0\n").ok());
  EXPECT_FALSE(parse_pressure("some avg10 1\n").ok());
}

TEST(ParseIo, ReadsTheStorageBytes) {
  auto c = parse_io(
      "rchar: 323934931\nwchar: 323929600\nsyscr: 632687\nsyscw: 632675\n"
      "read_bytes: 4096\nwrite_bytes: 323932160\ncancelled_write_bytes: 0\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->read_bytes, 4096U);
  EXPECT_EQ(c->write_bytes, 323932160U);
  EXPECT_FALSE(parse_io("rchar: 1\nwchar: 2\n"));
  EXPECT_FALSE(parse_io("read_bytes: x\nwrite_bytes: 1\n"));
  EXPECT_FALSE(parse_io(""));
}

TEST(ParseSmapsRollup, SumsPrivatePagesAndKeepsSwap) {
  auto m = parse_smaps_rollup(
      "55f2a0b5e000-7ffd6b7f8000 ---p 00000000 00:00 0                          [rollup]\n"
      "Rss:               12000 kB\nPss:                6000 kB\nPss_Anon:  5000 kB\n"
      "Shared_Clean:       4000 kB\nShared_Dirty:       2000 kB\n"
      "Private_Clean:       1000 kB\nPrivate_Dirty:      5000 kB\nSwap:  300 kB\n"
      "SwapPss:  300 kB\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rss, 12000U * 1024);
  EXPECT_EQ(m->pss, 6000U * 1024);
  EXPECT_EQ(m->private_bytes, 6000U * 1024);
  EXPECT_EQ(m->swap, 300U * 1024);
  EXPECT_FALSE(parse_smaps_rollup("Rss: 10 kB\n"));
  EXPECT_FALSE(parse_smaps_rollup("Rss: 10 kB\nPss: 50 kB\nPrivate_Dirty: 1 kB\n"));
  EXPECT_FALSE(parse_smaps_rollup("garbage\n\0\n"));
}

TEST(ParseKmsg, FindsTheKernelsOomKill) {
  auto k = parse_kmsg_oom_kill(
      "3,1234,5678901,-;Out of memory: Killed process 4242 (chrome) total-vm:9000kB, "
      "anon-rss:512000kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:2000kB "
      "oom_score_adj:300\n");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->pid, 4242);
  EXPECT_EQ(k->comm, "chrome");
  EXPECT_EQ(k->anon_rss_kb, 512000U);
  EXPECT_EQ(k->uid, 1000U);
  EXPECT_EQ(k->oom_score_adj, 300);
  EXPECT_FALSE(k->cgroup_limit);
  auto cg = parse_kmsg_oom_kill(
      "3,99,1,-;Memory cgroup out of memory: Killed process 77 (a) b) (c) total-vm:1kB, "
      "anon-rss:10kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:0");
  ASSERT_TRUE(cg);
  EXPECT_TRUE(cg->cgroup_limit);
  EXPECT_EQ(cg->comm, "a) b) (c");  // cut at the last ") "
  EXPECT_EQ(cg->anon_rss_kb, 10U);
  // An old kernel's shorter line still names the process.
  auto old = parse_kmsg_oom_kill("3,5,6,-;Out of memory: Killed process 12 (x)");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->comm, "x");
  EXPECT_FALSE(old->uid);
  for (const char* other : {"6,1,2,-;eth0: link up", "no semicolon Killed process 1 (a)",
                            "3,1,2,-;Out of memory: Killed process x (a) UID:0",
                            "3,1,2,-;Out of memory: Killed process 5 a", ""}) {
    EXPECT_FALSE(parse_kmsg_oom_kill(other)) << other;
  }
}

TEST(ParseVmstat, ReadsTheOomKillCounter) {
  EXPECT_EQ(parse_vmstat_oom_kills("nr_free_pages 100\noom_kill 3\nfoo 1\n"), 3U);
  EXPECT_FALSE(parse_vmstat_oom_kills("nr_free_pages 100\n"));
  EXPECT_FALSE(parse_vmstat_oom_kills("oom_kill x\n"));
}

}  // namespace
}  // namespace freezr::proc

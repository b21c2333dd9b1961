#include "store/history.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace freezr::store {
namespace {

class HistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("freezr-hist-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    auto db = Database::open((dir_ / "h.db").string(), false, nullptr);
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(HistoryTest, RecordsSamplesMinutesAndEventsAndQueriesThem) {
  History h(*db_);
  const double t0 = 60.0 * 1000;  // a minute boundary
  for (int i = 0; i < 6; ++i) {
    const double ts = t0 + i * 10;
    std::vector<RuleSample> rules = {{"node", 2, 10.0 * (i + 1), 100.0 + i, i}};
    std::vector<TopSample> top = {{"cpu", 1, {5, 7}, "node", 10.0 * (i + 1), 100, "node"}};
    SystemSample sys;
    sys.load1 = 0.5;
    sys.processes = 300;
    std::vector<Event> ev;
    if (i == 3) ev.push_back({ts, "action", "node", 5, "node", "kill", true, "exited", {}});
    ASSERT_TRUE(h.record(ts, rules, top, sys, true, ev));
  }
  const auto raw = query_samples(*db_, t0, t0 + 100, std::nullopt, false);
  ASSERT_EQ(raw.size(), 6U);
  EXPECT_DOUBLE_EQ(raw[5].cpu, 60.0);
  const auto minutes = query_samples(*db_, t0, t0 + 100, std::string("node"), true);
  ASSERT_EQ(minutes.size(), 1U);
  EXPECT_DOUBLE_EQ(minutes[0].cpu, 35.0);  // average of 10..60
  EXPECT_DOUBLE_EQ(minutes[0].cpu_max, 60.0);
  EXPECT_DOUBLE_EQ(minutes[0].rss_max, 105.0);
  EXPECT_TRUE(query_samples(*db_, t0, t0 + 100, std::string("other"), false).empty());
  const auto events = query_events(*db_, t0, t0 + 100, std::nullopt, std::string("action"));
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].pid, 5);
  EXPECT_EQ(events[0].ok, true);
  EXPECT_TRUE(query_events(*db_, t0, t0 + 100, std::nullopt, std::string("pressure")).empty());
  const auto stats = query_stats(*db_, t0, t0 + 100);
  ASSERT_EQ(stats.size(), 1U);
  EXPECT_EQ(stats[0].samples, 6);
  EXPECT_EQ(stats[0].actions, 1);
  EXPECT_DOUBLE_EQ(stats[0].cpu_max, 60.0);
}

TEST_F(HistoryTest, TheWalIsCheckpointedAndCutBackAsScansAreWritten) {
  History h(*db_);
  const auto wal = dir_ / "h.db-wal";
  std::uintmax_t largest = 0;
  for (int i = 0; i < 4000; ++i) {
    std::vector<RuleSample> rules = {{"a", 1, 1.0 * i, 10, 0}, {"b", 2, 2.0, 20, 0}};
    std::vector<TopSample> top;
    for (int k = 1; k <= 5; ++k) top.push_back({"cpu", k, {k, 1}, "p", 1.0, 1.0, ""});
    ASSERT_TRUE(h.record(1e9 + i * 3.0, rules, top, {}, true, {}));
    std::error_code ec;
    largest = std::max(largest, std::filesystem::file_size(wal, ec));
  }
  // Without the checkpoint settings the WAL grows to about 4 MiB (1,000 pages) first.
  EXPECT_GT(std::filesystem::file_size(dir_ / "h.db"), 1U << 20) << "the history did grow";
  EXPECT_LE(largest, 1300U * 1024U);
}

TEST_F(HistoryTest, PagesNeverRepeatOrSkipARowAndGoEitherWay) {
  History h(*db_);
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(h.record(100 + i, {{"r", 1, 1.0 * i, 1, 0}}, {}, {}, true,
                         {{100.0 + i, "action", "r", i + 1, "x", "kill", true, "m"}}));
  }
  for (const bool newest_first : {false, true}) {
    std::vector<int> pids;
    std::vector<double> cpus;
    Page page{10, 0, newest_first};
    int pages = 0;
    for (std::int64_t next = 0;; page.cursor = next, ++pages) {
      for (const auto& e : query_events(*db_, 0, 1000, std::nullopt, std::nullopt, page, &next)) {
        pids.push_back(e.pid);
      }
      if (next == 0) break;
    }
    EXPECT_EQ(pages, 2);  // 10 + 10 + 5
    ASSERT_EQ(pids.size(), 25U);
    for (int i = 0; i < 25; ++i) EXPECT_EQ(pids[i], newest_first ? 25 - i : i + 1);
    page = Page{10, 0, newest_first};
    for (std::int64_t next = 0;; page.cursor = next) {
      for (const auto& s : query_samples(*db_, 0, 1000, std::nullopt, false, page, &next)) {
        cpus.push_back(s.cpu);
      }
      if (next == 0) break;
    }
    ASSERT_EQ(cpus.size(), 25U);
    EXPECT_DOUBLE_EQ(cpus.front(), newest_first ? 24.0 : 0.0);
  }
  std::int64_t next = -1;
  EXPECT_EQ(
      query_events(*db_, 0, 1000, std::nullopt, std::nullopt, Page{25, 0, false}, &next).size(),
      25U);
  EXPECT_EQ(next, 0);  // exactly one full page: no next
}

TEST_F(HistoryTest, SystemSamplesPerScanAndPerMinuteInPages) {
  History h(*db_);
  const double t0 = 60.0 * 2000;  // a minute boundary
  for (int i = 0; i < 18; ++i) {  // three minutes, six scans each
    SystemSample sys;
    sys.mem_used_percent = 40.0 + i;
    sys.psi_some_avg10 = i < 6 ? std::optional<double>() : std::optional<double>(2.0);
    ASSERT_TRUE(h.record(t0 + i * 10, {}, {}, sys, true, {}));
  }
  const auto raw = query_system(*db_, t0, t0 + 1000, false);
  ASSERT_EQ(raw.size(), 18U);
  EXPECT_DOUBLE_EQ(*raw[3].mem_used_percent, 43.0);
  EXPECT_FALSE(raw[3].psi_some_avg10.has_value());
  EXPECT_FALSE(raw[3].load1.has_value());
  std::vector<SystemRow> minutes;
  Page page{2, 0, false};
  int pages = 0;
  for (std::int64_t next = 0;; page.cursor = next, ++pages) {
    for (const auto& m : query_system(*db_, t0, t0 + 1000, true, page, &next)) {
      minutes.push_back(m);
    }
    if (next == 0) break;
  }
  EXPECT_EQ(pages, 1);  // 2 + 1
  ASSERT_EQ(minutes.size(), 3U);
  EXPECT_DOUBLE_EQ(minutes[0].ts, t0);
  EXPECT_DOUBLE_EQ(minutes[2].ts, t0 + 120);
  EXPECT_DOUBLE_EQ(*minutes[0].mem_used_percent, 42.5);  // the average of 40..45
  EXPECT_FALSE(minutes[0].psi_some_avg10.has_value());   // no sample had it
  EXPECT_DOUBLE_EQ(*minutes[1].psi_some_avg10, 2.0);
}

TEST_F(HistoryTest, DegradedScansKeepEventsOnly) {
  History h(*db_);
  ASSERT_TRUE(h.record(100, {{"r", 1, 1, 1, 0}}, {}, {}, false,
                       {{100, "lifecycle", "", 1, "freezr", "start", true, "x"}}));
  EXPECT_TRUE(query_samples(*db_, 0, 1000, std::nullopt, false).empty());
  EXPECT_EQ(query_events(*db_, 0, 1000, std::nullopt, std::nullopt).size(), 1U);
}

TEST_F(HistoryTest, PruneKeepsEachKindForItsOwnPeriod) {
  History h(*db_);
  const double day = 86400;
  for (double ts : {0.0, 40 * day, 99 * day}) {
    ASSERT_TRUE(h.record(ts, {{"r", 1, 1, 1, 0}}, {}, {}, true,
                         {{ts, "action", "r", 1, "x", "log", true, "m"}}));
  }
  Retention r;  // 48 h raw, 30 d minutes, 90 d events
  ASSERT_TRUE(h.prune(100 * day, r));
  EXPECT_EQ(query_samples(*db_, 0, 200 * day, std::nullopt, false).size(), 1U);  // day 99
  EXPECT_EQ(query_samples(*db_, 0, 200 * day, std::nullopt, true).size(), 1U);   // day 99
  EXPECT_EQ(query_events(*db_, 0, 200 * day, std::nullopt, std::nullopt).size(), 2U);
}

}  // namespace
}  // namespace freezr::store

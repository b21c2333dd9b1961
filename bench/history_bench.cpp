// History benchmark: writes a simulated day of scans (one every 3 s, the seed's three rules, a
// system sample, a few events, and the top 5 by CPU and memory at each full sweep: every 10th
// scan while the process table is read, every 60th while it is not — the daemon's defaults)
// through the real History code into a fresh SQLite file, and reports the file and its WAL per
// day (as they stand, after SQLite's own checkpoints) and the write time per scan. What one
// scan stores does not grow with the number of processes (only the top N are kept), so this is
// also the size at 1,000 processes.
//   freezr_history_bench [--hours H] [--interval S] [--top-every N]...
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "store/history.h"

namespace {

int run(double hours, double interval, long top_every) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("freezr-hb-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "freezr.db").string();
  auto db = freezr::store::Database::open(path, false, nullptr);
  if (!db) return 1;
  freezr::store::History history(**db);
  const auto scans = static_cast<long>(hours * 3600 / interval);
  const double t0 = 1.8e9;
  double worst = 0, total = 0;
  for (long i = 0; i < scans; ++i) {
    const double ts = t0 + static_cast<double>(i) * interval;
    std::vector<freezr::store::RuleSample> rules = {
        {"kesl", 3, 12.5 + static_cast<double>(i % 7), 512.3, 0},
        {"node", 4, 40.0 + static_cast<double>(i % 13), 830.1, static_cast<std::int64_t>(i % 3)},
        {"browsers", 40, 20.0 + static_cast<double>(i % 11), 4100.7, 0}};
    std::vector<freezr::store::TopSample> top;
    for (const char* by : {"cpu", "memory"}) {
      if (i % top_every != 0) break;
      for (int k = 1; k <= 5; ++k) {
        top.push_back({by,
                       k,
                       {1000 + k, 5000},
                       "process-" + std::to_string(k),
                       50.0 / k,
                       900.0 / k,
                       k == 1 ? "node" : ""});
      }
    }
    freezr::store::SystemSample sys;
    sys.load1 = 1.2;
    sys.mem_used_percent = 45.3;
    sys.mem_available_mib = 12000;
    sys.swap_free_mib = 2000;
    sys.psi_some_avg10 = 0.5;
    sys.psi_full_avg10 = 0.1;
    sys.processes = 1000;
    std::vector<freezr::store::Event> events;
    if (i % 1200 == 0)
      events.push_back({ts, "action", "node", 1001, "node", "kill", true, "exited", {}});
    const auto a = std::chrono::steady_clock::now();
    if (!history.record(ts, rules, top, sys, true, events)) return 1;
    const double took =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count();
    total += took;
    worst = std::max(worst, took);
  }
  const auto size = [](const std::string& f) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(f, ec);
    return ec ? 0.0 : static_cast<double>(n) / (1024.0 * 1024.0);
  };
  const double file = size(path), wal = size(path + "-wal");
  std::printf(
      "history: %ld scans (%.0f h at %.0f s, top rows every %ld): file %.1f MiB + WAL %.1f MiB, "
      "%.1f MiB per day; write %.0f us per scan (mean), %.0f us worst\n",
      scans, hours, interval, top_every, file, wal, (file + wal) * 24 / hours,
      total / static_cast<double>(scans), worst);
  db->reset();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  double hours = 24, interval = 3;
  std::vector<long> top_every;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--hours") == 0) hours = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--interval") == 0) interval = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--top-every") == 0) top_every.push_back(std::atol(argv[i + 1]));
  }
  if (top_every.empty()) top_every = {10, 60};
  for (const long every : top_every) {
    if (every < 1 || run(hours, interval, every) != 0) return 1;
  }
  return 0;
}

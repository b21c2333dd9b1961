// Scan benchmark: one full FreezR scan of /proc against a minimal floor (list /proc and read
// every /proc/PID/stat), the same floor with the stat files kept open (pread), and
// `ps -e -o pid,pcpu,rss,comm`, at a given process count; and the cost per process of the
// files rules with I/O thresholds or a memory_metric read (/proc/PID/io, smaps_rollup).
// The benchmark forks idle children to reach the count and ends them by PID.
//   freezr_scan_bench [--procs N]... [--iterations K]
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "children.h"
#include "config/config.h"
#include "floor.h"
#include "scan/scanner.h"

namespace {

using freezr::bench::count_pids;
using freezr::bench::end_children;
using freezr::bench::fill_to;
using Clock = std::chrono::steady_clock;

// Reads and parses one per-process file of every process (io or smaps_rollup): what a rule
// reading it costs per process it covers.
std::size_t detail_scan(const char* name) {
  static std::string buf;
  static std::vector<freezr::Pid> pids;
  freezr::proc::FsProcSource src;
  src.list_pids(pids);
  std::size_t n = 0;
  const bool io = std::strcmp(name, "io") == 0;
  for (auto pid : pids) {
    auto r = src.read_pid_file(pid, name, buf);
    if (!r || !*r) continue;
    if (io ? freezr::proc::parse_io(buf).ok() : freezr::proc::parse_smaps_rollup(buf).ok()) ++n;
  }
  return n;
}

template <typename F>
double median_seconds(int iterations, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < iterations; ++i) {
    const auto a = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void run_at(std::size_t target, int iterations) {
  const auto kids = fill_to(target);
  usleep(200000);
  const std::size_t procs = count_pids();

  const auto cfg = freezr::config::default_config();
  freezr::proc::FsProcSource source;
  source.keep_stat_open(procs + 1000);  // as the daemon does, within its open-file limit
  freezr::scan::Scanner scanner(source, &cfg.rules);
  double now = 0;
  scanner.scan(now);  // warm: the first scan reads static facts of matched processes
  freezr::bench::Floor floor(false), kept(true);
  kept.pass();
  const double floor_s = median_seconds(iterations, [&] { floor.pass(); });
  const double kept_s = median_seconds(iterations, [&] { kept.pass(); });
  const double scan_s = median_seconds(iterations, [&] { scanner.scan(now += 1.0); });
  const double io_s = median_seconds(iterations, [] { detail_scan("io"); });
  const double smaps_s = median_seconds(iterations, [] { detail_scan("smaps_rollup"); });
  const double ps_s = median_seconds(std::max(3, iterations / 10), [] {
    if (std::system("ps -e -o pid,pcpu,rss,comm >/dev/null") != 0) std::abort();
  });
  end_children(kids);

  const double n = static_cast<double>(procs);
  std::printf(
      "processes=%zu  floor=%.2f ms (%.2f us/proc)  freezr=%.2f ms (%.2f us/proc)  "
      "ps=%.2f ms (%.2f us/proc)\n",
      procs, floor_s * 1e3, floor_s * 1e6 / n, scan_s * 1e3, scan_s * 1e6 / n, ps_s * 1e3,
      ps_s * 1e6 / n);
  std::printf("processes=%zu  floor with stat kept open=%.2f ms (%.2f us/proc, %.2fx the floor)\n",
              procs, kept_s * 1e3, kept_s * 1e6 / n, kept_s / floor_s);
  std::printf(
      "processes=%zu  freezr/floor=%.2fx (target <= 1.0x)  freezr/kept-open floor=%.2fx  "
      "ps/freezr=%.1fx (target >= 3x)  stat files kept=%zu\n",
      procs, scan_s / floor_s, scan_s / kept_s, ps_s / scan_s, source.stat_kept());
  // What the rule inputs that read more than stat cost, per process they cover (these idle
  // children map little: smaps_rollup walks every mapping, so a browser's costs far more).
  std::printf(
      "processes=%zu  /proc/PID/io=%.2f us/proc (%.2fx the stat floor)  "
      "/proc/PID/smaps_rollup=%.2f us/proc (%.2fx the stat floor)\n",
      procs, io_s * 1e6 / n, io_s / floor_s, smaps_s * 1e6 / n, smaps_s / floor_s);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> counts;
  int iterations = 30;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--procs") == 0 && i + 1 < argc) {
      counts.push_back(static_cast<std::size_t>(std::atol(argv[++i])));
    } else if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--procs N]... [--iterations K]\n", argv[0]);
      return 2;
    }
  }
  if (counts.empty()) counts = {1000, 5000};
  for (auto c : counts) run_at(c, iterations);
  return 0;
}

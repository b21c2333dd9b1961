// Scan benchmark: one full FreezR scan of /proc against a minimal floor (list /proc and read
// every /proc/PID/stat) and against `ps -e -o pid,pcpu,rss,comm`, at a given process count.
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
#include "scan/scanner.h"

namespace {

using freezr::bench::count_pids;
using freezr::bench::end_children;
using freezr::bench::fill_to;
using Clock = std::chrono::steady_clock;

// The floor: what any /proc reader must do at least.
std::size_t floor_scan() {
  static char buf[4096];
  std::size_t n = 0;
  freezr::proc::FsProcSource src;
  static std::vector<freezr::Pid> pids;
  src.list_pids(pids);
  char path[64];
  for (auto pid : pids) {
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    if (read(fd, buf, sizeof buf) > 0) ++n;
    close(fd);
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
  freezr::scan::Scanner scanner(source, &cfg.rules);
  double now = 0;
  scanner.scan(now);  // warm: the first scan reads static facts of matched processes
  const double floor_s = median_seconds(iterations, [] { floor_scan(); });
  const double scan_s = median_seconds(iterations, [&] { scanner.scan(now += 1.0); });
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
  std::printf(
      "processes=%zu  freezr/floor=%.2fx (target <= 1.5x)  ps/freezr=%.1fx (target >= "
      "3x)\n",
      procs, scan_s / floor_s, ps_s / scan_s);
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

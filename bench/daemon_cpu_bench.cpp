// Daemon CPU benchmark: FreezR's own CPU use while it watches a machine of N processes, at a
// given scan interval, with process events (light scans between full sweeps) and without
// them (every scan full). Forks idle children to reach N, runs the freezr binary in dry-run
// with the seed's rules, reads its utime+stime from /proc, and ends everything by PID.
//   freezr_daemon_cpu_bench FREEZR [--procs N]... [--interval S]... [--seconds T]
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "children.h"

namespace {

using freezr::bench::count_pids;
using freezr::bench::end_children;
using freezr::bench::fill_to;

// utime + stime of pid, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::istringstream rest(s.substr(s.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Percent of one core FreezR used over `seconds`, after a warm-up of two intervals.
double measure(const std::string& freezr, double interval, bool events, double seconds) {
  char tmpl[] = "/tmp/freezr-cpu-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string cfg = dir + "/freezr.toml";
  std::ofstream(cfg) << "[monitor]\ninterval = " << interval << "\ndry_run = true\n"
                     << "process_events = " << (events ? "true" : "false") << "\n"
                     << "[logging]\ndir = \"" << dir << "/logs\"\n"
                     << "[storage]\ndir = \"" << dir << "/data\"\nruntime_dir = \"" << dir
                     << "/run\"\n"
                     << "[http]\nlisten = \"127.0.0.1:0\"\n"
                     << "[[rule]]\nname = \"kesl\"\nmatch = { comm = [\"kesl\", \"wdserver\"] }\n"
                     << "aggregate = \"group\"\ncpu_percent = 30\nmemory_mb = 600\n"
                     << "action = \"restart\"\nservice = \"kesl\"\n"
                     << "[[rule]]\nname = \"node\"\nmatch = { comm = [\"node\"] }\n"
                     << "cpu_percent = 80\nviolations = 3\naction = \"kill\"\n"
                     << "[[rule]]\nname = \"browsers\"\nmatch = { category = \"browser\" }\n"
                     << "memory_mb = 8000\naction = \"freeze\"\n";
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(freezr.c_str(), freezr.c_str(), "--config", cfg.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(2 * interval + 1));
  const double a = cpu_seconds(pid);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const double b = cpu_seconds(pid);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  std::filesystem::remove_all(dir);
  return 100.0 * (b - a) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FREEZR [--procs N]... [--interval S]... [--seconds T]\n",
                 argv[0]);
    return 2;
  }
  const std::string freezr = argv[1];
  std::vector<std::size_t> targets;
  std::vector<double> intervals;
  double seconds = 60;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--procs") == 0)
      targets.push_back(std::strtoul(argv[i + 1], nullptr, 10));
    if (std::strcmp(argv[i], "--interval") == 0) intervals.push_back(std::atof(argv[i + 1]));
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
  }
  if (targets.empty()) targets = {1000, 5000};
  if (intervals.empty()) intervals = {3, 1};
  std::printf("FreezR's own CPU, percent of one core, measured over %.0f s (dry-run, 3 rules)\n",
              seconds);
  std::printf("%8s %9s %12s %12s %8s\n", "procs", "interval", "events", "full scans", "ratio");
  for (const auto target : targets) {
    const auto kids = fill_to(target);
    for (const double interval : intervals) {
      const double with = measure(freezr, interval, true, seconds);
      const double without = measure(freezr, interval, false, seconds);
      std::printf("%8zu %8.1fs %11.3f%% %11.3f%% %7.1fx\n", count_pids(), interval, with, without,
                  with > 0 ? without / with : 0.0);
      std::fflush(stdout);
    }
    end_children(kids);
  }
  return 0;
}

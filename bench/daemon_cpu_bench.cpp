// Daemon CPU benchmark: FreezR's own CPU use and memory while it watches a machine of N
// processes, at a given scan interval, with process events (light scans between full sweeps)
// and without them (every scan full), beside top at the same interval in the same run. Forks
// idle children to reach N, runs the freezr binary in dry-run with the seed's rules, reads
// utime+stime and RSS from /proc, and ends everything by PID.
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
#include <string>
#include <thread>
#include <vector>

#include "children.h"

namespace {

using freezr::bench::count_pids;
using freezr::bench::end_children;
using freezr::bench::fill_to;

// CPU time of pid's threads, in seconds, from the scheduler's nanosecond counters
// (/proc/PID/task/TID/schedstat): utime+stime count in clock ticks, too coarse for the
// hundredths of a percent these runs measure. A thread that exited is not counted; FreezR's
// threads live as long as it does.
double cpu_seconds(pid_t pid) {
  double total = 0;
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator(
           "/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream f(t.path() / "schedstat");
    unsigned long long ns = 0;
    if (f >> ns) total += static_cast<double>(ns) / 1e9;
  }
  return total;
}

// A figure of /proc/PID/status, in KiB ("VmRSS", "RssAnon").
long status_kib(pid_t pid, const std::string& key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind(key + ":", 0) == 0) return std::atol(line.c_str() + key.size() + 1);
  }
  return 0;
}

struct Usage {
  double cpu_percent = 0;  // of one core
  long rss_kib = 0, anon_kib = 0;
};

// Runs argv with its output to /dev/null; its CPU over `seconds`, after a warm-up of two
// intervals, and its memory at the end. Ends it by PID.
Usage measure_program(const std::vector<std::string>& argv, double interval, double seconds) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(2 * interval + 1));
  const double a = cpu_seconds(pid);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  Usage u;
  u.cpu_percent = 100.0 * (cpu_seconds(pid) - a) / seconds;
  u.rss_kib = status_kib(pid, "VmRSS");
  u.anon_kib = status_kib(pid, "RssAnon");
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  return u;
}

// FreezR with its default features (HTTP, history, process events unless told not to) in
// dry-run, with the seed's rules.
Usage measure(const std::string& freezr, double interval, bool events, double seconds) {
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
  const auto u = measure_program({freezr, "--config", cfg}, interval, seconds);
  std::filesystem::remove_all(dir);
  return u;
}

double load1() {
  std::ifstream f("/proc/loadavg");
  double l = 0;
  f >> l;
  return l;
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
  std::printf(
      "FreezR's own CPU, percent of one core, over %.0f s (dry-run, 3 rules, HTTP and history "
      "on), beside top -b at the same interval; RSS in MiB (anonymous part in brackets)\n",
      seconds);
  std::printf("%6s %8s %6s | %9s %14s | %9s %14s | %9s %6s | %7s %7s\n", "procs", "interval",
              "load", "events", "RSS", "full", "RSS", "top", "RSS", "ev/top", "ev/full");
  const auto mib = [](long kib) { return static_cast<double>(kib) / 1024.0; };
  for (const auto target : targets) {
    const auto kids = fill_to(target);
    for (const double interval : intervals) {
      const double load = load1();
      const auto with = measure(freezr, interval, true, seconds);
      const auto without = measure(freezr, interval, false, seconds);
      char delay[32];
      std::snprintf(delay, sizeof delay, "%g", interval);
      const auto top = measure_program({"top", "-b", "-d", delay}, interval, seconds);
      std::printf(
          "%6zu %7.1fs %6.2f | %8.3f%% %6.1f (%5.1f) | %8.3f%% %6.1f (%5.1f) | %8.3f%% %6.1f | "
          "%6.2fx %6.2fx\n",
          count_pids(), interval, load, with.cpu_percent, mib(with.rss_kib), mib(with.anon_kib),
          without.cpu_percent, mib(without.rss_kib), mib(without.anon_kib), top.cpu_percent,
          mib(top.rss_kib), top.cpu_percent > 0 ? with.cpu_percent / top.cpu_percent : 0.0,
          without.cpu_percent > 0 ? with.cpu_percent / without.cpu_percent : 0.0);
      std::fflush(stdout);
    }
    end_children(kids);
  }
  return 0;
}

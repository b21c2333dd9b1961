// Daemon CPU benchmark: FreezR's own CPU use and memory while it watches a machine of N
// processes, at a given scan interval, with process events (light scans between full sweeps)
// and without them (every scan full), beside, in the same run and at the same interval: the
// floor (a loop that lists /proc and reads every /proc/PID/stat, opened each time or kept
// open), top, btop (in a pseudo-terminal) and process-exporter (scraped each interval), where
// they are installed. Forks idle children to reach N, runs the freezr binary in dry-run with
// the seed's rules and its default features (HTTP, history, process events; status.json on a
// tmpfs, as /run is under systemd), reads CPU from the scheduler and RSS from /proc, and ends
// everything by PID.
// Then, at the first interval, FreezR again while programs start beside it (--spawn-rate a
// second, fork + exec of /bin/true): the CPU each start costs it.
//   freezr_daemon_cpu_bench FREEZR [--procs N]... [--interval S]... [--seconds T]
//                           [--spawn-rate R]
//   freezr_daemon_cpu_bench --floor S | --floor-kept S   (the floor loop itself)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "children.h"
#include "floor.h"

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
  for (const auto& t :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
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

// The floor, forever: one pass every interval.
[[noreturn]] void run_floor(double interval, bool kept) {
  freezr::bench::Floor floor(kept);
  for (;;) {
    floor.pass();
    std::this_thread::sleep_for(std::chrono::duration<double>(interval));
  }
}

bool installed(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (std::size_t at = 0; at <= dirs.size();) {
    auto end = dirs.find(':', at);
    if (end == std::string::npos) end = dirs.size();
    if (::access((dirs.substr(at, end - at) + "/" + program).c_str(), X_OK) == 0) return true;
    at = end + 1;
  }
  return false;
}

// A free TCP port on loopback (bound, then let go).
int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

// GET /metrics on loopback port, reading the whole answer; whether one came.
bool scrape(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  bool got = false;
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::write(s, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[65536];
      while (::read(s, buf, sizeof buf) > 0) got = true;
    }
  }
  ::close(s);
  return got;
}

// How a measured program runs beside the benchmark.
struct Launch {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  bool terminal = false;  // in a pseudo-terminal whose output is read and dropped
  int scrape_port = 0;    // scraped at each interval when not 0
};

// Runs the program with its output dropped; its CPU over `seconds`, after a warm-up of two
// intervals, and its memory at the end. Ends it by PID.
Usage measure_program(const Launch& l, double interval, double seconds) {
  int master = -1;
  winsize ws{};
  ws.ws_row = 40;
  ws.ws_col = 120;
  const pid_t pid = l.terminal ? forkpty(&master, nullptr, nullptr, &ws) : fork();
  if (pid == 0) {
    if (!l.terminal) {
      const int null = ::open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
    }
    for (const auto& [k, v] : l.env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : l.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  std::thread drain;
  if (master >= 0) {
    drain = std::thread([master] {
      char buf[65536];
      while (::read(master, buf, sizeof buf) > 0) {
      }
    });
  }
  std::atomic<bool> done{false};
  std::atomic<int> scrapes{0};
  std::thread scraper;
  if (l.scrape_port != 0) {
    scraper = std::thread([&] {
      while (!done) {
        if (scrape(l.scrape_port)) ++scrapes;
        std::this_thread::sleep_for(std::chrono::duration<double>(interval));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(2 * interval + 1));
  const double a = cpu_seconds(pid);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  Usage u;
  u.cpu_percent = 100.0 * (cpu_seconds(pid) - a) / seconds;
  u.rss_kib = status_kib(pid, "VmRSS");
  u.anon_kib = status_kib(pid, "RssAnon");
  done = true;
  if (scraper.joinable()) scraper.join();
  if (l.scrape_port != 0 && scrapes == 0) u.cpu_percent = -1;  // it never answered
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  if (drain.joinable()) {
    ::close(master);
    drain.join();
  }
  return u;
}

// FreezR with its default features (HTTP, history, process events unless told not to) in
// dry-run, with the seed's rules.
Usage measure(const std::string& freezr, double interval, bool events, double seconds) {
  char tmpl[] = "/tmp/freezr-cpu-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  char run_tmpl[] = "/dev/shm/freezr-cpu-bench-XXXXXX";
  const std::string run = mkdtemp(run_tmpl);
  const std::string cfg = dir + "/freezr.toml";
  std::ofstream(cfg) << "[monitor]\ninterval = " << interval << "\ndry_run = true\n"
                     << "process_events = " << (events ? "true" : "false") << "\n"
                     << "[logging]\ndir = \"" << dir << "/logs\"\n"
                     << "[storage]\ndir = \"" << dir << "/data\"\nruntime_dir = \"" << run << "\"\n"
                     << "[pressure]\ncandidates = { comm = [\"frz-bench-none\"] }\n"
                     << "[http]\nlisten = \"127.0.0.1:0\"\n"
                     << "[[rule]]\nname = \"kesl\"\nmatch = { comm = [\"kesl\", \"wdserver\"] }\n"
                     << "aggregate = \"group\"\ncpu_percent = 30\nmemory_mb = 600\n"
                     << "action = \"restart\"\nservice = \"kesl\"\n"
                     << "[[rule]]\nname = \"node\"\nmatch = { comm = [\"node\"] }\n"
                     << "cpu_percent = 80\nviolations = 3\naction = \"kill\"\n"
                     << "[[rule]]\nname = \"browsers\"\nmatch = { category = \"browser\" }\n"
                     << "memory_mb = 8000\naction = \"freeze\"\n";
  Launch l{{freezr, "--config", cfg}, {}, false, 0};
  auto u = measure_program(l, interval, seconds);
  if (u.rss_kib == 0) {  // it exited: say so rather than print 0%
    std::fprintf(stderr, "freezr did not keep running with %s\n", cfg.c_str());
    u.cpu_percent = -1;
  }
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(run);
  return u;
}

// Starts programs (fork, exec /bin/true, wait) at about `rate` a second until stop; how many.
std::size_t spawn_programs(double rate, const std::atomic<bool>& stop) {
  std::size_t n = 0;
  const auto step = std::chrono::duration<double>(1.0 / rate);
  auto next = std::chrono::steady_clock::now();
  while (!stop) {
    const pid_t pid = fork();
    if (pid == 0) {
      execl("/bin/true", "true", static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid > 0 && waitpid(pid, nullptr, 0) == pid) ++n;
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(step);
    std::this_thread::sleep_until(next);
  }
  return n;
}

double load1() {
  std::ifstream f("/proc/loadavg");
  double l = 0;
  f >> l;
  return l;
}

// A figure of CPU, or "n/a" where the program is not installed or never answered.
std::string percent(double v) {
  char b[32];
  if (v < 0) return "n/a";
  std::snprintf(b, sizeof b, "%.3f%%", v);
  return b;
}

std::string ratio(double a, double b) {
  char r[32];
  if (a < 0 || b <= 0) return "n/a";
  std::snprintf(r, sizeof r, "%.2fx", a / b);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 &&
      (std::strcmp(argv[1], "--floor") == 0 || std::strcmp(argv[1], "--floor-kept") == 0)) {
    run_floor(std::atof(argv[2]), std::strcmp(argv[1], "--floor-kept") == 0);
  }
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FREEZR [--procs N]... [--interval S]... [--seconds T]\n",
                 argv[0]);
    return 2;
  }
  const std::string freezr = argv[1];
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<std::size_t> targets;
  std::vector<double> intervals;
  double seconds = 60;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--procs") == 0)
      targets.push_back(std::strtoul(argv[i + 1], nullptr, 10));
    if (std::strcmp(argv[i], "--interval") == 0) intervals.push_back(std::atof(argv[i + 1]));
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
  }
  double spawn_rate = 200;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--spawn-rate") == 0) spawn_rate = std::atof(argv[i + 1]);
  }
  if (targets.empty()) targets = {1000, 5000};
  struct Starts {
    std::size_t procs;
    double interval, quiet, busy, rate;
  };
  std::vector<Starts> starts;
  if (intervals.empty()) intervals = {3, 1};
  const bool have_btop = installed("btop");
  const std::string exporter = "prometheus-process-exporter";
  const bool have_exporter = installed(exporter);
  char conf_tmpl[] = "/tmp/freezr-cpu-bench-peers-XXXXXX";
  const std::string peers = mkdtemp(conf_tmpl);
  std::ofstream(peers + "/process-exporter.yml")
      << "process_names:\n  - name: \"{{.Comm}}\"\n    cmdline:\n    - '.+'\n";
  std::printf(
      "CPU, percent of one core, over %.0f s per program, one program at a time: the floor (list "
      "/proc, read every stat; opened each time, or kept open and pread), FreezR in dry-run (3 "
      "rules, HTTP and history on) with process events and with every scan full, top -b, btop "
      "and process-exporter (all processes, scraped each interval) at the same interval. RSS in "
      "MiB (anonymous part in brackets); the ratios are to the floor.\n",
      seconds);
  std::printf("%6s %8s %5s | %8s %8s | %8s %13s %8s %13s | %8s %8s %8s | %7s %7s %7s %7s %7s %7s\n",
              "procs", "interval", "load", "floor", "kept", "events", "RSS", "full", "RSS", "top",
              "btop", "p-exp", "kept/f", "ev/flr", "ful/flr", "top/flr", "btop/f", "pexp/f");
  const auto mib = [](long kib) { return static_cast<double>(kib) / 1024.0; };
  for (const auto target : targets) {
    const auto kids = fill_to(target);
    for (const double interval : intervals) {
      const double load = load1();
      char delay[32];
      std::snprintf(delay, sizeof delay, "%g", interval);
      const auto floor =
          measure_program({{self, "--floor", delay}, {}, false, 0}, interval, seconds);
      const auto kept =
          measure_program({{self, "--floor-kept", delay}, {}, false, 0}, interval, seconds);
      const auto with = measure(freezr, interval, true, seconds);
      const auto without = measure(freezr, interval, false, seconds);
      const auto top =
          measure_program({{"top", "-b", "-d", delay}, {}, false, 0}, interval, seconds);
      Usage btop{-1, 0, 0};
      if (have_btop) {
        std::filesystem::create_directories(peers + "/btop");
        std::ofstream(peers + "/btop/btop.conf")
            << "update_ms = " << static_cast<int>(interval * 1000) << "\n";
        btop = measure_program(
            {{"btop"}, {{"XDG_CONFIG_HOME", peers}, {"TERM", "xterm-256color"}}, true, 0}, interval,
            seconds);
      }
      Usage pexp{-1, 0, 0};
      if (have_exporter) {
        const int port = free_port();
        pexp = measure_program({{exporter, "-config.path", peers + "/process-exporter.yml",
                                 "-web.listen-address", "127.0.0.1:" + std::to_string(port)},
                                {},
                                false,
                                port},
                               interval, seconds);
      }
      std::printf(
          "%6zu %7.1fs %5.2f | %8s %8s | %8s %5.1f (%5.1f) %8s %5.1f (%5.1f) | %8s %8s %8s | "
          "%7s %7s %7s %7s %7s %7s\n",
          count_pids(), interval, load, percent(floor.cpu_percent).c_str(),
          percent(kept.cpu_percent).c_str(), percent(with.cpu_percent).c_str(), mib(with.rss_kib),
          mib(with.anon_kib), percent(without.cpu_percent).c_str(), mib(without.rss_kib),
          mib(without.anon_kib), percent(top.cpu_percent).c_str(),
          percent(btop.cpu_percent).c_str(), percent(pexp.cpu_percent).c_str(),
          ratio(kept.cpu_percent, floor.cpu_percent).c_str(),
          ratio(with.cpu_percent, floor.cpu_percent).c_str(),
          ratio(without.cpu_percent, floor.cpu_percent).c_str(),
          ratio(top.cpu_percent, floor.cpu_percent).c_str(),
          ratio(btop.cpu_percent, floor.cpu_percent).c_str(),
          ratio(pexp.cpu_percent, floor.cpu_percent).c_str());
      std::fflush(stdout);
      if (interval == intervals.front()) {
        // The same FreezR while programs start beside it: what each start costs it.
        std::atomic<bool> stop{false};
        std::size_t spawned = 0;
        const auto t0 = std::chrono::steady_clock::now();
        std::thread spawner([&] { spawned = spawn_programs(spawn_rate, stop); });
        const auto busy = measure(freezr, interval, true, seconds);
        stop = true;
        spawner.join();
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        starts.push_back({count_pids(), interval, with.cpu_percent, busy.cpu_percent,
                          static_cast<double>(spawned) / wall});
      }
    }
    end_children(kids);
  }
  std::printf(
      "\nPrograms started beside FreezR (fork, exec /bin/true, exit; process events on):\n");
  std::printf("%6s %8s | %9s %10s %11s | %12s\n", "procs", "interval", "starts/s", "quiet",
              "starting", "us per start");
  for (const auto& s : starts) {
    const double per_start =
        s.rate > 0 ? (s.busy - s.quiet) / 100.0 / s.rate * 1e6 : 0.0;  // CPU s per s / starts per s
    std::printf("%6zu %7.1fs | %9.0f %10s %11s | %12.1f\n", s.procs, s.interval, s.rate,
                percent(s.quiet).c_str(), percent(s.busy).c_str(), per_start);
  }
  std::filesystem::remove_all(peers);
  return 0;
}

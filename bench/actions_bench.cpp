// Actions benchmark: FreezR's own time to apply and to undo each reversible action (renice,
// throttle, freeze by signal, freeze by cgroup), ledger write included, on idle children the
// benchmark forks and ends by PID.
//   freezr_actions_bench [--iterations N]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>

#include "act/cgroups.h"
#include "act/reversible.h"
#include "proc/proc_source.h"
#include "store/database.h"
#include "store/ledger.h"

namespace {

using Clock = std::chrono::steady_clock;
using freezr::engine::ActionKind;

freezr::engine::TargetInfo target_of(freezr::proc::ProcSource& src, pid_t pid) {
  std::string buf;
  src.read_pid_file(pid, "stat", buf);
  auto st = freezr::proc::parse_stat(buf);
  return {{pid, st ? st->start_time : 0}, "bench", 0, 0};
}

struct Timing {
  double apply_us = 0;
  double undo_us = 0;
};

Timing measure(int n, const std::function<void()>& apply, const std::function<void()>& undo) {
  Timing t;
  for (int i = 0; i < n; ++i) {
    auto a = Clock::now();
    apply();
    auto b = Clock::now();
    undo();
    auto c = Clock::now();
    t.apply_us += std::chrono::duration<double, std::micro>(b - a).count();
    t.undo_us += std::chrono::duration<double, std::micro>(c - b).count();
  }
  t.apply_us /= n;
  t.undo_us /= n;
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 200;
  if (argc == 3 && std::strcmp(argv[1], "--iterations") == 0) n = std::max(1, std::atoi(argv[2]));
  const pid_t child = fork();
  if (child == 0) {
    for (;;) pause();
  }
  const auto dir =
      std::filesystem::temp_directory_path() / ("freezr-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto data = freezr::fs::Directory::open(dir.string());
  if (!data) {
    std::fprintf(stderr, "%s\n", data.error().message.c_str());
    return 1;
  }
  freezr::store::Ledger ledger(&*data);
  freezr::proc::FsProcSource source;
  auto mountinfo = source.read_system_file("self/mountinfo");
  freezr::act::Cgroups cgroups(
      freezr::act::find_cgroup_roots(freezr::proc::parse_mountinfo(mountinfo ? *mountinfo : "")),
      "freezr-bench");
  cgroups.setup();
  boost::asio::io_context io;
  freezr::act::LinuxProcessControl control(source, "/proc");
  freezr::SystemClock clock;
  freezr::act::Reversibles rev(io, source, control, clock, cgroups, ledger,
                               [](const freezr::act::ActionOutcome& o) {
                                 if (!o.ok) std::fprintf(stderr, "failed: %s\n", o.detail.c_str());
                               });
  freezr::engine::Decision d;
  d.rule = "bench";
  d.entity = target_of(source, child).id;
  d.targets = {target_of(source, child)};
  auto run = [&](const char* name, ActionKind kind, bool signals) {
    d.action = freezr::engine::Action{};
    d.action.kind = kind;
    d.action.nice = 10;
    d.action.cpu_limit = 20;
    d.action.duration = 3600;
    rev.prefer_signals(signals);
    auto undo = [&] {
      if (kind == ActionKind::kFreeze) {
        rev.undo_all();
      } else {
        auto rel = d;
        rel.verdict = freezr::engine::Verdict::kRelease;
        rev.release(rel);
      }
    };
    auto apply = [&] {
      if (kind == ActionKind::kRenice) rev.renice(d);
      if (kind == ActionKind::kThrottle) rev.throttle(d);
      if (kind == ActionKind::kFreeze) rev.freeze(d);
    };
    const auto t = measure(n, apply, undo);
    std::printf("%-22s apply %8.1f us   undo %8.1f us   (mean of %d, ledger file synced)\n", name,
                t.apply_us, t.undo_us, n);
  };
  run("renice", ActionKind::kRenice, false);
  run(cgroups.can_throttle_v2() ? "throttle (cpu.max)" : "throttle (v1 quota)",
      ActionKind::kThrottle, false);
  run("freeze (SIGSTOP)", ActionKind::kFreeze, true);
  if (cgroups.can_freeze()) run("freeze (cgroup.freeze)", ActionKind::kFreeze, false);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  std::filesystem::remove_all(dir);
  for (const auto& root : {cgroups.roots().v2, cgroups.roots().v1_cpu}) {
    if (!root.empty()) freezr::act::Cgroups::remove(root + "/freezr-bench");
  }
  return 0;
}

#include "daemon/setup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

#include "os/journal.h"

namespace freezr::daemon {

std::chrono::steady_clock::duration to_duration(double seconds) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
}

os::Date today() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  return os::Date{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

report::LineSink journal_sink() {
  return [](spdlog::level::level_enum level, std::string_view message,
            const std::vector<std::pair<std::string, std::string>>& fields) {
    using spdlog::level::level_enum;
    const int priority = level >= level_enum::critical ? 2
                         : level == level_enum::err    ? 3
                         : level == level_enum::warn   ? 4
                         : level == level_enum::info   ? 6
                                                       : 7;
    os::journal_send(priority, message, fields);
  };
}

config::Config with_overrides(config::Config c, const RunOptions& o) {
  if (o.log_dir) c.logging.dir = *o.log_dir;
  if (o.data_dir) c.storage.dir = *o.data_dir;
  if (o.runtime_dir) c.storage.runtime_dir = *o.runtime_dir;
  if (o.json_log) c.logging.json = *o.json_log;
  return c;
}

Result<std::string> read_token(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error{errno, "token file " + path + ": " + std::strerror(errno)};
  }
  if ((st.st_uid != 0 && st.st_uid != ::geteuid()) || (st.st_mode & 077) != 0) {
    return Error{EPERM, "token file " + path +
                            " must be owned by root and unreadable by "
                            "group and others (chmod 600)"};
  }
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\r')) token.pop_back();
  if (token.size() < 16)
    return Error{EINVAL, "token in " + path + " is shorter than 16 characters"};
  return token;
}

std::vector<std::string> command_capabilities(const config::Config& cfg) {
  bool as_user = cfg.notify.desktop;  // to speak on users' buses
  bool oom = false;
  auto look = [&](const engine::Action& a) {
    for (const auto* c :
         {&a.command, a.before ? &*a.before : nullptr, a.after ? &*a.after : nullptr}) {
      if (c != nullptr && c->uid) as_user = true;
    }
    if (a.oom_score_adj) oom = true;
  };
  for (const auto& r : cfg.rules) {
    for (const auto& st : r.steps) look(st.action);
    if (r.on_exec) look(*r.on_exec);
  }
  std::vector<std::string> out;
  if (as_user) out = {"CAP_SETUID", "CAP_SETGID"};
  // /proc/PID/oom_score_adj belongs to the process's user: root writes another's by this.
  if (oom) out.emplace_back("CAP_DAC_OVERRIDE");
  return out;
}

std::optional<std::uint32_t> owner_of(const std::string& proc_root, Pid pid) {
  struct stat st {};
  if (::stat((proc_root + "/" + std::to_string(pid)).c_str(), &st) != 0) return std::nullopt;
  return st.st_uid;
}

SelfUsage self_usage(proc::ProcSource& source) {
  std::string buf;
  if (!source.read_pid_file(::getpid(), "stat", buf)) return {};
  auto st = proc::parse_stat(buf);
  if (!st) return {};
  return {static_cast<double>(st->utime + st->stime) / static_cast<double>(source.clock_ticks()),
          static_cast<std::uint64_t>(std::max<std::int64_t>(st->rss_pages, 0)) *
              static_cast<std::uint64_t>(source.page_size()),
          st->vsize};
}

act::CgroupRoots cgroup_roots(proc::ProcSource& source) {
  auto text = source.read_system_file("self/mountinfo");
  return text ? act::find_cgroup_roots(proc::parse_mountinfo(*text)) : act::CgroupRoots{};
}

}  // namespace freezr::daemon

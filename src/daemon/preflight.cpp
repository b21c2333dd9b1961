#include "daemon/preflight.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "os/capabilities.h"
#include "os/notify.h"

namespace freezr::daemon {

using spdlog::level::level_enum;

Result<DiskUsage> disk_usage(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) {
    return Error{errno, "statvfs " + path + ": " + std::strerror(errno)};
  }
  DiskUsage u;
  const auto frag = static_cast<std::uint64_t>(st.f_frsize);
  u.total_bytes = static_cast<std::uint64_t>(st.f_blocks) * frag;
  u.free_bytes = static_cast<std::uint64_t>(st.f_bavail) * frag;
  if (st.f_blocks > 0) {
    const double avail = static_cast<double>(st.f_bavail);
    u.used_percent = 100.0 * (1.0 - avail / static_cast<double>(st.f_blocks));
  }
  return u;
}

std::string health_line(const std::optional<proc::LoadAvg>& load,
                        const std::optional<proc::MemInfo>& mem,
                        const std::optional<proc::Pressure>& cpu,
                        const std::optional<proc::Pressure>& io,
                        const std::optional<proc::Pressure>& memory) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  if (load) add(fmt::format("Load: {:.2f} {:.2f} {:.2f}", load->one, load->five, load->fifteen));
  if (mem) {
    add(fmt::format("Memory: {:.1f}% used ({:.1f} GiB available)", mem->used_percent(),
                    static_cast<double>(mem->available_kb) / 1024.0 / 1024.0));
    if (mem->swap_total_kb > 0) {
      add(fmt::format("Swap: {:.1f}% used",
                      100.0 * static_cast<double>(mem->swap_total_kb - mem->swap_free_kb) /
                          static_cast<double>(mem->swap_total_kb)));
    }
  }
  if (cpu || io || memory) {
    auto v = [](const std::optional<proc::Pressure>& p) {
      return p ? fmt::format("{:.2f}", p->some.avg10) : std::string("n/a");
    };
    add(fmt::format("PSI some avg10: cpu {} io {} memory {}", v(cpu), v(io), v(memory)));
  } else {
    add("PSI: not available");
  }
  return out;
}

void Preflight::check(bool ok, const std::string& what, const std::string& detail) {
  log_.line(ok ? level_enum::info : level_enum::warn, "preflight", {{"check", what}, {"ok", ok}},
            detail);
  if (!ok) ++warnings_;
}

namespace {
// Opens and checks a directory FreezR writes in: "created, writable" or why not.
Result<std::string> writable(const fs::Directory& dir) {
  if (auto probe = dir.probe_writable(); !probe) return probe.error();
  return std::string(dir.created() ? "created, writable" : "exists, writable");
}
}  // namespace

void Preflight::log_dir(const std::optional<fs::Directory>& dir, const std::string& path,
                        const std::string& file_error) {
  if (!dir || !file_error.empty()) {
    check(false, "log directory", "file logging is off (" + file_error + ")");
    return;
  }
  auto r = writable(*dir);
  check(r.ok(), "log directory", path + ": " + (r ? *r : r.error().message));
}

std::optional<DataDirectory> Preflight::data_dir_and_lock(const std::string& dir,
                                                          const std::string& runtime_dir,
                                                          bool replace, double wait_seconds) {
  auto fail = [&](const std::string& what, const std::string& why) {
    log_.line(level_enum::err, "preflight", {{"check", what}, {"ok", false}}, why);
    return std::nullopt;
  };
  auto open = [&](const char* what, const std::string& path) -> std::optional<fs::Directory> {
    auto opened = fs::Directory::open(path);
    if (!opened) {
      fail(what, opened.error().message + "; cannot continue without it");
      return std::nullopt;
    }
    auto r = writable(*opened);
    if (!r) {
      fail(what, r.error().message + "; cannot continue without it");
      return std::nullopt;
    }
    check(true, what, path + ": " + *r);
    return std::move(*opened);
  };
  auto data = open("data directory", dir);
  if (!data) return std::nullopt;
  auto runtime = open("runtime directory", runtime_dir);
  if (!runtime) return std::nullopt;
  auto lock =
      os::InstanceLock::acquire(runtime->path_of("freezr.lock"), replace, wait_seconds,
                                [this](const std::string& s) { log_.note(level_enum::info, s); });
  if (!lock) return fail("single instance", lock.error().message);
  check(true, "single instance",
        "lock " + lock->path() + " held by PID " + std::to_string(::getpid()));
  return DataDirectory{std::move(*data), std::move(*runtime), std::move(lock).value()};
}

void Preflight::system_health(proc::ProcSource& source) {
  auto read = [&](const char* file) -> std::optional<std::string> {
    auto t = source.read_system_file(file);
    return t ? std::optional<std::string>(*t) : std::nullopt;
  };
  auto pressure = [&](const char* file) -> std::optional<proc::Pressure> {
    auto t = read(file);
    if (!t) return std::nullopt;
    auto p = proc::parse_pressure(*t);
    return p ? std::optional<proc::Pressure>(*p) : std::nullopt;
  };
  std::optional<proc::LoadAvg> load;
  std::optional<proc::MemInfo> mem;
  if (auto t = read("loadavg")) {
    if (auto l = proc::parse_loadavg(*t)) load = *l;
  }
  if (auto t = read("meminfo")) {
    if (auto m = proc::parse_meminfo(*t)) mem = *m;
  }
  check(mem.has_value(), "system health",
        health_line(load, mem, pressure("pressure/cpu"), pressure("pressure/io"),
                    pressure("pressure/memory")));
}

void Preflight::lock_memory() {
#ifdef MCL_ONFAULT
  const int flags = MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT;
#else
  const int flags = MCL_CURRENT | MCL_FUTURE;
#endif
  if (::mlockall(flags) == 0) {
    check(true, "memory lock", "FreezR's memory is locked (mlockall): it cannot be swapped out");
    return;
  }
  check(false, "memory lock",
        std::string("mlockall failed (") + std::strerror(errno) +
            "): FreezR's own pages may be reclaimed under memory pressure (raise LimitMEMLOCK)");
}

void Preflight::capabilities(const std::vector<std::string>& extra) {
  if (::geteuid() != 0) return;
  const auto dropped = os::drop_capabilities(extra);
  if (!dropped) {
    check(false, "capabilities", "not dropped: " + dropped.error().message);
    return;
  }
  auto joined = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? std::string("none") : out;
  };
  std::string detail =
      "dropped to the ones FreezR needs: " + joined(dropped->kept) +
      (dropped->bounding_set ? " (bounding set too)"
                             : " (the bounding set is the unit's: no CAP_SETPCAP)");
  if (!dropped->unavailable.empty()) detail += "; not held: " + joined(dropped->unavailable);
  check(true, "capabilities", detail);
}

void Preflight::summary(int extra_warnings) {
  const int total = warnings_ + extra_warnings;
  log_.note(total == 0 ? level_enum::info : level_enum::warn,
            total == 0 ? std::string("✅ Pre-flight checks: ALL PASSED")
                       : fmt::format("⚠️  Pre-flight checks: {} warning(s), monitoring anyway",
                                     total));
}

}  // namespace freezr::daemon

#include "daemon/preflight.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

namespace freezr::daemon {

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

Result<std::string> ensure_writable_dir(const std::string& dir) {
  std::error_code ec;
  const bool existed = std::filesystem::is_directory(dir, ec);
  if (!existed && !std::filesystem::create_directories(dir, ec) && ec) {
    return Error{ec.value(), "cannot create " + dir + ": " + ec.message()};
  }
  const std::string probe = dir + "/.write_test";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error{errno, dir + " is not writable: " + std::strerror(errno)};
  const bool wrote = ::write(fd, "ok", 2) == 2;
  const int err = errno;
  ::close(fd);
  ::unlink(probe.c_str());
  if (!wrote) return Error{err, dir + " is not writable: " + std::strerror(err)};
  return std::string(existed ? "exists, writable" : "created, writable");
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

}  // namespace freezr::daemon

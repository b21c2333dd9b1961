#include "proc/proc_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

namespace freezr::proc {

FsProcSource::FsProcSource(std::string root)
    : root_(std::move(root)), ticks_(sysconf(_SC_CLK_TCK)), page_(sysconf(_SC_PAGESIZE)) {
  root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) throw std::system_error(errno, std::generic_category(), "open " + root_);
  struct statfs fs {};
  procfs_ = ::fstatfs(root_fd_, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

FsProcSource::~FsProcSource() {
  keep_stat_open(0);
  if (root_fd_ >= 0) ::close(root_fd_);
}

void FsProcSource::keep_stat_open(std::size_t at_most) {
  keep_at_most_ = procfs_ ? at_most : 0;
  if (keep_at_most_ >= kept_.size()) return;
  for (auto& [pid, k] : kept_) ::close(k.fd);
  kept_.clear();
}

void FsProcSource::list_pids(std::vector<Pid>& out) {
  out.clear();
  int fd = ::openat(root_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return;
  }
  while (const dirent* e = ::readdir(dir)) {
    const char* name = e->d_name;
    if (name[0] < '1' || name[0] > '9') continue;
    Pid pid = 0;
    const auto len = std::strlen(name);
    auto [ptr, ec] = std::from_chars(name, name + len, pid);
    if (ec == std::errc() && ptr == name + len) out.push_back(pid);
  }
  ::closedir(dir);
  if (kept_.empty()) return;
  // The kept files of processes no longer listed are closed.
  ++listing_;
  for (Pid pid : out) {
    if (auto it = kept_.find(pid); it != kept_.end()) it->second.listed = listing_;
  }
  std::erase_if(kept_, [this](const auto& entry) {
    if (entry.second.listed == listing_) return false;
    ::close(entry.second.fd);
    return true;
  });
}

Result<bool> FsProcSource::read_stat(Pid pid, const char* path, std::string& buf) {
  constexpr std::size_t kSize = 4096;  // one read takes the whole line
  if (auto it = kept_.find(pid); it != kept_.end()) {
    buf.resize(kSize);
    const ssize_t n = ::pread(it->second.fd, buf.data(), kSize, 0);
    if (n > 0) {
      buf.resize(static_cast<std::size_t>(n));
      return true;
    }
    ::close(it->second.fd);  // the process exited: its PID may be another's now
    kept_.erase(it);
  }
  int fd = -1;
  auto r = read_at(path, buf, true, kept_.size() < keep_at_most_ ? &fd : nullptr);
  if (fd >= 0) kept_[pid] = {fd, listing_};
  return r;
}

Result<bool> FsProcSource::read_at(const char* path, std::string& buf, bool one_shot, int* keep) {
  buf.clear();
  int fd = ::openat(root_fd_, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{errno, std::string("open ") + path + ": " + std::strerror(errno)};
  constexpr std::size_t kChunk = 4096;
  for (;;) {
    const auto old = buf.size();
    buf.resize(old + kChunk);
    const ssize_t n = ::read(fd, buf.data() + old, kChunk);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      buf.clear();
      return Error{err, std::string("read ") + path + ": " + std::strerror(err)};
    }
    buf.resize(old + static_cast<std::size_t>(n));
    // A one-shot /proc file hands its whole text to the first read that has room for it: a
    // read that did not fill the buffer was the last, and asking again would only hear 0.
    if (n == 0 || (one_shot && static_cast<std::size_t>(n) < kChunk)) break;
  }
  if (keep != nullptr) {
    *keep = fd;
  } else {
    ::close(fd);
  }
  return true;
}

Result<bool> FsProcSource::read_pid_file(Pid pid, const char* name, std::string& buf) {
  char path[64];
  auto [end, ec] = std::to_chars(path, path + 20, pid);
  *end++ = '/';
  const auto len = std::strlen(name);
  if (ec != std::errc() || len > 40) return Error{EINVAL, "bad path"};
  std::memcpy(end, name, len + 1);
  if (std::strcmp(name, "stat") == 0) return read_stat(pid, path, buf);
  // statm and io are single-record seq files, like stat: one read.
  return read_at(path, buf, std::strcmp(name, "statm") == 0 || std::strcmp(name, "io") == 0);
}

Result<std::string> FsProcSource::read_exe(Pid pid) {
  const std::string path = std::to_string(pid) + "/exe";
  char link[4096];
  const ssize_t n = ::readlinkat(root_fd_, path.c_str(), link, sizeof link);
  if (n < 0) return Error{errno, "readlink " + path + ": " + std::strerror(errno)};
  std::string_view target(link, static_cast<std::size_t>(n));
  constexpr std::string_view kDeleted = " (deleted)";
  if (target.size() > kDeleted.size() && target.ends_with(kDeleted)) {
    target.remove_suffix(kDeleted.size());
  }
  return std::string(target);  // its own size: the cache keeps one per process
}

Result<std::string> FsProcSource::read_system_file(const char* relative) {
  std::string buf;
  auto r = read_at(relative, buf);
  if (!r) return r.error();
  return buf;
}

void read_all(ProcSource& source, RawScan& out, std::vector<Pid>& pids, std::string& buf) {
  source.list_pids(pids);
  read_stats(source, pids, out, buf, nullptr);
  read_system(source, out);
}

void read_stats(ProcSource& source, const std::vector<Pid>& pids, RawScan& out, std::string& buf,
                std::vector<Pid>* gone) {
  out.processes.clear();
  out.unreadable = 0;
  out.processes.reserve(pids.size());
  for (Pid pid : pids) {
    auto r = source.read_pid_file(pid, "stat", buf);
    if (!r) {
      if (gone != nullptr && r.error().gone()) {
        gone->push_back(pid);
      } else {
        ++out.unreadable;
      }
      continue;
    }
    auto stat = parse_stat(buf);
    if (!stat) {
      ++out.unreadable;
      continue;
    }
    out.processes.push_back(std::move(stat).value());
  }
}

void read_system(ProcSource& source, RawScan& out) {
  out.meminfo.reset();
  out.loadavg.reset();
  auto pressure = [&](const char* file) -> std::optional<Pressure> {
    auto t = source.read_system_file(file);
    if (!t) return std::nullopt;
    auto p = parse_pressure(*t);
    return p ? std::optional<Pressure>(*p) : std::nullopt;
  };
  out.memory_pressure = pressure("pressure/memory");
  out.cpu_pressure = pressure("pressure/cpu");
  out.io_pressure = pressure("pressure/io");
  if (auto t = source.read_system_file("meminfo")) {
    if (auto m = parse_meminfo(*t)) out.meminfo = *m;
  }
  if (auto t = source.read_system_file("loadavg")) {
    if (auto l = parse_loadavg(*t)) out.loadavg = *l;
  }
}

}  // namespace freezr::proc

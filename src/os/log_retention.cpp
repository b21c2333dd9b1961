#include "os/log_retention.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>

namespace freezr::os {

long days_from_civil(const Date& d) {
  // Howard Hinnant's algorithm.
  const int y = d.year - (d.month <= 2 ? 1 : 0);
  const long era = (y >= 0 ? y : y - 399) / 400;
  const long yoe = y - era * 400;
  const long mp = (d.month + 9) % 12;
  const long doy = (153 * mp + 2) / 5 + d.day - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::optional<Date> daily_file_date(const std::string& name) {
  static const std::string kPrefix = "process_monitor.log.";
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  std::string rest = name.substr(kPrefix.size());
  if (rest.size() == 13 && rest.compare(10, 3, ".gz") == 0) rest.resize(10);
  if (rest.size() != 10 || rest[4] != '-' || rest[7] != '-') return std::nullopt;
  Date d;
  char tail = 0;
  if (std::sscanf(rest.c_str(), "%4d-%2d-%2d%c", &d.year, &d.month, &d.day, &tail) != 3) {
    return std::nullopt;
  }
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31) return std::nullopt;
  return d;
}

RetentionPlan plan_retention(const std::vector<std::string>& names, const Date& today,
                             int keep_days, int compress_after_days) {
  RetentionPlan plan;
  const long now = days_from_civil(today);
  for (const auto& n : names) {
    const auto d = daily_file_date(n);
    if (!d) continue;
    const long age = now - days_from_civil(*d);
    if (age <= 0) continue;
    const bool gz = n.size() > 3 && n.compare(n.size() - 3, 3, ".gz") == 0;
    if (keep_days > 0 && age > keep_days) {
      plan.remove.push_back(n);
    } else if (!gz && compress_after_days > 0 && age > compress_after_days) {
      plan.compress.push_back(n);
    }
  }
  return plan;
}

Result<void> gzip_file(const fs::Directory& dir, const std::string& name) {
  auto in = dir.open_existing(name, O_RDONLY);
  if (!in) return in.error();
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{*in};
  struct stat st {};
  if (::fstat(*in, &st) != 0) return Error(errno, "cannot stat " + dir.path_of(name));
  const std::string gz = name + ".gz", tmp = gz + ".tmp";
  if (auto r = dir.remove(tmp); !r) return r;
  auto out_fd = dir.create_file(tmp, O_WRONLY | O_EXCL, st.st_mode & 0777);
  if (!out_fd) return out_fd.error();
  gzFile out = gzdopen(*out_fd, "wb9");
  if (out == nullptr) {
    ::close(*out_fd);
    (void)dir.remove(tmp);
    return Error(0, "cannot compress into " + dir.path_of(tmp), ErrorKind::kIo);
  }
  char buf[65536];
  bool ok = true;
  for (;;) {
    const ssize_t n = ::read(*in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = ok && n == 0;
      break;
    }
    if (gzwrite(out, buf, static_cast<unsigned>(n)) != static_cast<int>(n)) ok = false;
  }
  if (gzclose(out) != Z_OK) ok = false;
  if (!ok) {
    (void)dir.remove(tmp);
    return Error(0, "cannot compress " + dir.path_of(name) + " (disk full?)", ErrorKind::kIo);
  }
  if (auto r = dir.rename(tmp, gz); !r) return r;
  return dir.remove(name);
}

std::vector<std::string> apply_retention(const fs::Directory& dir, const Date& today, int keep_days,
                                         int compress_after_days, int* removed, int* compressed) {
  std::vector<std::string> problems;
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir.path(), ec)) {
    if (e.is_regular_file(ec) && !e.is_symlink(ec)) names.push_back(e.path().filename().string());
  }
  if (ec) return {"cannot list " + dir.path() + ": " + ec.message()};
  const auto plan = plan_retention(names, today, keep_days, compress_after_days);
  for (const auto& n : plan.remove) {
    if (auto r = dir.remove(n)) {
      ++*removed;
    } else {
      problems.push_back(r.error().message);
    }
  }
  for (const auto& n : plan.compress) {
    if (auto r = gzip_file(dir, n); !r) {
      problems.push_back(r.error().message);
    } else {
      ++*compressed;
    }
  }
  return problems;
}

}  // namespace freezr::os

#include "os/log_retention.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

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

std::optional<std::string> gzip_file(const std::string& dir, const std::string& name) {
  const std::string src = dir + "/" + name;
  const std::string dst = src + ".gz";
  const std::string tmp = dst + ".tmp";
  std::ifstream in(src, std::ios::binary);
  if (!in) return "cannot read " + src;
  gzFile out = gzopen(tmp.c_str(), "wb9");
  if (out == nullptr) return "cannot create " + tmp;
  char buf[65536];
  bool ok = true;
  while (in && ok) {
    in.read(buf, sizeof buf);
    const auto n = static_cast<unsigned>(in.gcount());
    if (n > 0 && gzwrite(out, buf, n) != static_cast<int>(n)) ok = false;
  }
  if (gzclose(out) != Z_OK) ok = false;
  std::error_code ec;
  if (!ok || in.bad()) {
    std::filesystem::remove(tmp, ec);
    return "cannot compress " + src + " (disk full?)";
  }
  std::filesystem::rename(tmp, dst, ec);
  if (ec) return "cannot rename " + tmp + ": " + ec.message();
  std::filesystem::remove(src, ec);
  return std::nullopt;
}

std::vector<std::string> apply_retention(const std::string& dir, const Date& today, int keep_days,
                                         int compress_after_days, int* removed, int* compressed) {
  std::vector<std::string> problems;
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) names.push_back(e.path().filename().string());
  }
  if (ec) return {"cannot list " + dir + ": " + ec.message()};
  const auto plan = plan_retention(names, today, keep_days, compress_after_days);
  for (const auto& n : plan.remove) {
    if (std::filesystem::remove(dir + "/" + n, ec)) {
      ++*removed;
    } else {
      problems.push_back("cannot delete " + n + ": " + ec.message());
    }
  }
  for (const auto& n : plan.compress) {
    if (auto err = gzip_file(dir, n)) {
      problems.push_back(*err);
    } else {
      ++*compressed;
    }
  }
  return problems;
}

}  // namespace freezr::os

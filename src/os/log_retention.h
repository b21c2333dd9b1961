// Retention of the daily log files: delete the old ones, gzip the less old. Planning is pure
// (today comes in as a value); applying it touches the files.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "fs/files.h"

namespace freezr::os {

struct Date {
  int year = 1970, month = 1, day = 1;
};

// Days since 1970-01-01 (proleptic Gregorian).
long days_from_civil(const Date& d);

// The date in a daily file name "process_monitor.log.YYYY-MM-DD" (optionally ".gz").
std::optional<Date> daily_file_date(const std::string& name);

struct RetentionPlan {
  std::vector<std::string> remove;    // file names older than keep_days
  std::vector<std::string> compress;  // uncompressed file names older than compress_after_days
};

// keep_days = 0 keeps everything; compress_after_days = 0 never compresses. Today's file is
// never touched. Names that are not daily files are ignored.
RetentionPlan plan_retention(const std::vector<std::string>& names, const Date& today,
                             int keep_days, int compress_after_days);

// Compresses name into name.gz (with the original's mode, through a fresh temporary, no link
// followed either way) and removes the original.
Result<void> gzip_file(const fs::Directory& dir, const std::string& name);

// Lists dir, plans and applies; returns one line per problem.
std::vector<std::string> apply_retention(const fs::Directory& dir, const Date& today, int keep_days,
                                         int compress_after_days, int* removed, int* compressed);

}  // namespace freezr::os

#include "os/logging.h"

#include <fmt/format.h>
#include <spdlog/sinks/daily_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <filesystem>

#include "os/journal.h"

namespace freezr::os {

std::string daily_file_name(int year, int month, int day) {
  return fmt::format("process_monitor.log.{:04d}-{:02d}-{:02d}", year, month, day);
}

namespace {
// spdlog names daily files base_YYYY-MM-DD.ext; the seed's users tail base.YYYY-MM-DD.
struct SeedFileName {
  static spdlog::filename_t calc_filename(const spdlog::filename_t& base, const tm& t) {
    const auto dir = std::filesystem::path(base).parent_path();
    return (dir / daily_file_name(t.tm_year + 1900, t.tm_mon + 1, t.tm_mday)).string();
  }
};
using SeedDailySink = spdlog::sinks::daily_file_sink<std::mutex, SeedFileName>;
}  // namespace

Logging make_logger(const std::string& dir, std::optional<bool> color, bool journal) {
  Logging out;
  std::vector<spdlog::sink_ptr> sinks;
  auto console =
      std::make_shared<spdlog::sinks::stdout_color_sink_mt>(!color   ? spdlog::color_mode::automatic
                                                            : *color ? spdlog::color_mode::always
                                                                     : spdlog::color_mode::never);
  if (!journal) sinks.push_back(console);
  auto opened = fs::Directory::open(dir);
  if (opened) {
    out.dir = std::move(*opened);
    const auto now = std::time(nullptr);
    std::tm t{};
    localtime_r(&now, &t);
    auto today = out.dir->check_entry(daily_file_name(t.tm_year + 1900, t.tm_mon + 1, t.tm_mday));
    if (!today) {
      out.file_error = today.error().message;
    } else {
      try {
        out.file = std::make_shared<SeedDailySink>(dir + "/process_monitor.log", 0, 0);
        sinks.push_back(out.file);
      } catch (const std::exception& e) {
        out.file_error = e.what();
      }
    }
  } else {
    out.file_error = opened.error().message;
  }
  out.logger = std::make_shared<spdlog::logger>("freezr", sinks.begin(), sinks.end());
  out.logger->flush_on(spdlog::level::info);
  auto file = out.file;
  out.logger->set_error_handler([console, file, journal](const std::string& msg) {
    // Only the file sink can fail to write: turn it off, say so once, keep monitoring.
    if (file && file->level() != spdlog::level::off) {
      file->set_level(spdlog::level::off);
      const std::string text = "file logging stopped (" + msg + "); logging to " +
                               (journal ? "the journal" : "stdout") + " only, monitoring continues";
      if (journal) {
        journal_send(4, text, {});
      } else {
        console->log(spdlog::details::log_msg("freezr", spdlog::level::warn, text));
      }
    }
  });
  return out;
}

}  // namespace freezr::os

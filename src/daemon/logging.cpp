#include "daemon/logging.h"

#include <fmt/format.h>
#include <spdlog/sinks/daily_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <filesystem>

namespace freezr::daemon {

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

std::shared_ptr<spdlog::logger> make_logger(const std::string& dir, std::string* file_error) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stdout_color_sink_mt>());
  try {
    std::filesystem::create_directories(dir);
    sinks.push_back(std::make_shared<SeedDailySink>(dir + "/process_monitor.log", 0, 0));
  } catch (const std::exception& e) {
    if (file_error != nullptr) *file_error = e.what();
  }
  auto logger = std::make_shared<spdlog::logger>("freezr", sinks.begin(), sinks.end());
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
  logger->flush_on(spdlog::level::info);
  return logger;
}

}  // namespace freezr::daemon

// The terminal dashboard's model: what is shown, built from the daemon's API answers. Pure;
// the ncurses view only draws these lines.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace freezr::ui {

enum class Sort { kCpu, kMemory, kPid };
const char* to_string(Sort s);
Sort next(Sort s);

struct DashboardInput {
  std::optional<nlohmann::json> status;       // /api/v1/status, nullopt when FreezR did not answer
  std::optional<nlohmann::json> processes;    // /api/v1/processes
  std::optional<nlohmann::json> events;       // /api/v1/events
  std::optional<nlohmann::json> frozen;       // /api/v1/frozen
  std::optional<nlohmann::json> predictions;  // /api/v1/predictions
  std::optional<nlohmann::json> why;          // /api/v1/why of why_pid, while it is shown
  int why_pid = 0;                            // 0: the why view is closed
  std::string address;                        // where FreezR was asked
  double now = 0;                             // Unix seconds
  double interval = 1;                        // the dashboard's refresh
  Sort sort = Sort::kCpu;
  std::string filter;
  int selected = 0;       // row in the process table
  int process_rows = 15;  // rows of the process table shown
};

struct Line {
  std::string text;
  enum class Style { kNormal, kTitle, kWarn, kBad, kSelected } style = Style::kNormal;
};

struct DashboardModel {
  std::vector<Line> lines;
  bool running = false;   // FreezR answered
  bool stale = false;     // it answered with old data
  std::vector<int> pids;  // the process table's PIDs, in display order
};

// width: the terminal's columns (bars and columns fit in it).
DashboardModel build_dashboard(const DashboardInput& in, int width);

// "[#####.....]" for value against limit.
std::string bar(double value, double limit, int width);

}  // namespace freezr::ui

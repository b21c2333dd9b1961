// LogLines: structured log lines. Each line has a kind, ordered key/value fields and a
// message; it is written as `KIND key=value ...: message` or, with --log-format json, as one
// JSON object per line.
#pragma once

#include <spdlog/spdlog.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "engine/policy.h"

namespace freezr::report {

struct Field {
  std::string key;
  std::variant<std::string, double, long long, bool> value;
};

// Fields describing a process: pid, name, cpu, rss_mib.
std::vector<Field> process_fields(const engine::TargetInfo& t);

// Renders one event as a text line (without timestamp and level).
std::string render_text(std::string_view kind, const std::vector<Field>& fields,
                        std::string_view message);
// Renders one event as a JSON object; time is an ISO 8601 timestamp.
std::string render_json(std::string_view time, std::string_view level, std::string_view kind,
                        const std::vector<Field>& fields, std::string_view message);

// Where each line goes besides the logger's sinks: the journal, under systemd. It receives the
// level, the line as text and the fields as text (the kind as "event").
using LineSink = std::function<void(spdlog::level::level_enum, std::string_view,
                                    const std::vector<std::pair<std::string, std::string>>&)>;

class LogLines {
 public:
  LogLines(std::shared_ptr<spdlog::logger> logger, bool json, LineSink also = {});

  void line(spdlog::level::level_enum level, std::string_view kind,
            const std::vector<Field>& fields, std::string_view message = {});
  // A plain message (banner, notices).
  void note(spdlog::level::level_enum level, std::string_view message);

  [[nodiscard]] spdlog::logger& logger() { return *logger_; }
  [[nodiscard]] bool json() const { return json_; }
  // Switches the format (a reload of [logging] format).
  void set_json(bool json);

 private:
  std::shared_ptr<spdlog::logger> logger_;
  bool json_;
  LineSink also_;
};

}  // namespace freezr::report

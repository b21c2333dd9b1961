#include "report/log_lines.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "core/timespec.h"

namespace freezr::report {

std::vector<Field> process_fields(const engine::TargetInfo& t) {
  return {{"pid", static_cast<long long>(t.id.pid)},
          {"name", t.comm},
          {"cpu", std::round(t.cpu_percent * 10) / 10},
          {"rss_mib", std::round(t.rss_mb * 10) / 10}};
}

namespace {
bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  for (unsigned char c : s) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) return true;
  }
  return false;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return terminal_safe(out) + "\"";
}

std::string text_value(const Field& f) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return needs_quotes(v) ? quoted(v) : v;
        } else if constexpr (std::is_same_v<T, double>) {
          return fmt::format("{:.1f}", v);
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else {
          return std::to_string(v);
        }
      },
      f.value);
}

// A field's value as the journal stores it: a string as it is (a journal field takes any bytes),
// a number in full.
std::string plain_value(const Field& f) {
  if (const auto* s = std::get_if<std::string>(&f.value)) return *s;
  if (const auto* d = std::get_if<double>(&f.value)) return fmt::format("{}", *d);
  return text_value(f);
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == '_') c = ' ';
  }
  return out;
}
}  // namespace

std::string render_text(std::string_view kind, const std::vector<Field>& fields,
                        std::string_view message) {
  std::string out = upper(kind);
  for (const auto& f : fields) out += " " + f.key + "=" + text_value(f);
  if (!message.empty()) out.append(": ").append(terminal_safe(message));
  return out;
}

std::string render_json(std::string_view time, std::string_view level, std::string_view kind,
                        const std::vector<Field>& fields, std::string_view message) {
  nlohmann::ordered_json j;
  j["time"] = time;
  j["level"] = level;
  if (!kind.empty()) j["event"] = kind;
  for (const auto& f : fields) {
    std::visit([&](const auto& v) { j[f.key] = v; }, f.value);
  }
  if (!message.empty()) j["message"] = message;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

LogLines::LogLines(std::shared_ptr<spdlog::logger> logger, bool json, LineSink also)
    : logger_(std::move(logger)), json_(!json), also_(std::move(also)) {
  set_json(json);
}

void LogLines::set_json(bool json) {
  if (json == json_) return;
  json_ = json;
  // JSON lines carry their own time and level.
  logger_->set_pattern(json_ ? "%v" : "[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
}

namespace {
std::string now_iso() {
  return rfc3339(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(),
      true);
}
}  // namespace

void LogLines::line(spdlog::level::level_enum level, std::string_view kind,
                    const std::vector<Field>& fields, std::string_view message) {
  const std::string text = also_ || !json_ ? render_text(kind, fields, message) : std::string();
  if (also_) {
    std::vector<std::pair<std::string, std::string>> values;
    if (!kind.empty()) values.emplace_back("event", std::string(kind));
    for (const auto& f : fields) values.emplace_back(f.key, plain_value(f));
    also_(level, text, values);
  }
  if (json_) {
    const auto name = spdlog::level::to_string_view(level);
    logger_->log(
        level, "{}",
        render_json(now_iso(), std::string_view(name.data(), name.size()), kind, fields, message));
  } else {
    logger_->log(level, "{}", text);
  }
}

void LogLines::note(spdlog::level::level_enum level, std::string_view message) {
  if (also_ && !json_) also_(level, terminal_safe(message, true), {});
  if (json_) {
    line(level, "", {}, message);
  } else {
    logger_->log(level, "{}", terminal_safe(message, true));
  }
}

}  // namespace freezr::report

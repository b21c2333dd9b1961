#include "cli/table.h"

#include <fmt/format.h>

#include <sstream>

#include "core/text.h"

namespace freezr::cli {

using nlohmann::ordered_json;

namespace {

// A cell as a table or CSV shows it: process names and messages made terminal-safe.
std::string cell_text(const ordered_json& v) {
  if (v.is_string()) return terminal_safe(v.get<std::string>());
  if (v.is_null()) return "";
  if (v.is_number_float()) return fmt::format("{:.2f}", v.get<double>());
  return v.dump();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string render(const Table& t, const std::string& format) {
  std::ostringstream o;
  if (format == "json") {
    ordered_json arr = ordered_json::array();
    for (const auto& row : t.rows) {
      ordered_json obj;
      for (std::size_t i = 0; i < t.headers.size(); ++i) obj[t.headers[i]] = row[i];
      arr.push_back(std::move(obj));
    }
    o << arr.dump(2, ' ', false, ordered_json::error_handler_t::replace) << "\n";
  } else if (format == "csv") {
    for (std::size_t i = 0; i < t.headers.size(); ++i) o << (i ? "," : "") << t.headers[i];
    o << "\n";
    for (const auto& row : t.rows) {
      for (std::size_t i = 0; i < row.size(); ++i)
        o << (i ? "," : "") << csv_field(cell_text(row[i]));
      o << "\n";
    }
  } else {
    std::vector<std::size_t> width(t.headers.size());
    for (std::size_t i = 0; i < t.headers.size(); ++i) width[i] = t.headers[i].size();
    for (const auto& row : t.rows) {
      for (std::size_t i = 0; i < row.size(); ++i)
        width[i] = std::max(width[i], cell_text(row[i]).size());
    }
    auto line = [&](const std::vector<std::string>& cells) {
      for (std::size_t i = 0; i < cells.size(); ++i) {
        o << fmt::format("{:<{}}", cells[i], width[i]) << (i + 1 < cells.size() ? "  " : "\n");
      }
    };
    line(t.headers);
    for (const auto& row : t.rows) {
      std::vector<std::string> cells;
      for (const auto& c : row) cells.push_back(cell_text(c));
      line(cells);
    }
    if (t.rows.empty()) o << t.when_empty << "\n";
  }
  return o.str();
}

}  // namespace freezr::cli

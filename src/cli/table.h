// Table: rows of named, typed cells, printed as a table, JSON or CSV — what every command
// that prints data offers with --format table|json|csv.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace freezr::cli {

struct Table {
  std::vector<std::string> headers;
  std::string when_empty = "(nothing in this period)";  // what "table" prints without rows
  std::vector<std::vector<nlohmann::ordered_json>> rows;
};

// The table in format "table" (aligned columns, process names terminal-safe), "json" (an array
// of objects, one per row) or "csv" (a header line, then quoted fields where needed).
std::string render(const Table& t, const std::string& format);

}  // namespace freezr::cli

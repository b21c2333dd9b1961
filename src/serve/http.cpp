#include "serve/http.h"

#include <nlohmann/json.hpp>

namespace freezr::serve {
namespace {
int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

void parse_target(const std::string& target, std::string& path,
                  std::map<std::string, std::string>& query) {
  const auto q = target.find('?');
  path = decode(target.substr(0, q));
  if (q == std::string::npos) return;
  std::size_t pos = q + 1;
  while (pos <= target.size()) {
    auto amp = target.find('&', pos);
    if (amp == std::string::npos) amp = target.size();
    const auto pair = target.substr(pos, amp - pos);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      query[decode(pair.substr(0, eq))] =
          eq == std::string::npos ? std::string() : decode(pair.substr(eq + 1));
    }
    pos = amp + 1;
  }
}

Response json_error(int status, const std::string& message) {
  Response r;
  r.status = status;
  r.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                   nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace freezr::serve

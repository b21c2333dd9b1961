// libFuzzer target for what FreezR reads from people and other programs: the HTTP request
// target and its query (and, read as headers, the Host/Origin/token checks before any route),
// times and durations, kill-order patterns ("name>MiB"), and whole
// configuration files (FreezR's TOML with its rules, and the Rust FreezR's format, which the
// same loader recognises). The first byte picks the reader. Run by tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "config/config.h"
#include "core/timespec.h"
#include "engine/victims.h"
#include "serve/admission.h"
#include "serve/http.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: {
      std::string path;
      std::map<std::string, std::string> query;
      freezr::serve::parse_target(text, path, query);
      if (path.size() > text.size()) __builtin_trap();
      // The same bytes as the headers the admission checks read.
      freezr::serve::Request req;
      req.method = "GET";
      req.path = path;
      req.host = text.substr(0, text.size() / 3);
      req.origin = text.substr(text.size() / 3, text.size() / 3);
      req.ws_protocols = text.substr(2 * (text.size() / 3));
      req.authorization = "Bearer " + req.ws_protocols;
      req.websocket = (data[0] & 0x10) != 0;
      freezr::serve::AccessPolicy policy;
      policy.listen_host = "127.0.0.1";
      policy.reads_need_token = (data[0] & 0x20) != 0;
      policy.token = "fuzz-token";
      const auto refused = freezr::serve::refusal(req, policy);
      if (refused && refused->status != 401 && refused->status != 403 && refused->status != 421) {
        __builtin_trap();
      }
      (void)freezr::serve::subprotocols(req.ws_protocols);
      break;
    }
    case 1:
      (void)freezr::parse_duration(text);
      (void)freezr::parse_time(text, 1.7e9);
      break;
    case 2: {
      auto p = freezr::engine::parse_name_pattern(text);
      if (p && p->min_rss_mb && *p->min_rss_mb < 0) __builtin_trap();
      break;
    }
    default:
      try {
        (void)freezr::config::parse_config(text, "fuzz.toml");
      } catch (const freezr::config::ConfigError&) {
        // a clear error with file, line and column is the expected answer to bad input
      }
      break;
  }
  return 0;
}

#include "serve/web_config.h"

#include <crypt.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>

#include "core/text.h"
#include "fs/files.h"

namespace freezr::serve {

namespace {

Error config_error(const std::string& file, const YAML::Mark& at, const std::string& why) {
  std::string where = file;
  if (at.line >= 0)
    where += ":" + std::to_string(at.line + 1) + ":" + std::to_string(at.column + 1);
  return error_of(ErrorKind::kConfig, where + ": " + why);
}

bool bcrypt_hash(const std::string& h) {
  return h.size() == 60 && h[0] == '$' && h[1] == '2' &&
         (h[2] == 'a' || h[2] == 'b' || h[2] == 'y') && h[3] == '$';
}

std::string decode_base64(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (const char c : in) {
    if (c == '=') break;
    const auto at = kAlphabet.find(c);
    if (at == std::string::npos) return {};
    value = (value << 6) | static_cast<unsigned>(at);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace

Result<WebConfig> load_web_config(const std::string& path) {
  auto text = fs::read_regular_file(path, 1 << 20);
  if (!text) return error_of(ErrorKind::kConfig, path + ": " + text.error().message);
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return config_error(path, e.mark, e.msg);
  }
  WebConfig out;
  if (root.IsNull()) return out;
  if (!root.IsMap()) return config_error(path, root.Mark(), "expected a mapping");
  const auto dir = std::filesystem::absolute(path).parent_path();
  auto file = [&](const YAML::Node& n) {
    std::filesystem::path p(n.as<std::string>());
    return (p.is_absolute() ? p : dir / p).lexically_normal().string();
  };
  for (const auto& kv : root) {
    const auto key = kv.first.as<std::string>();
    const auto& value = kv.second;
    if (key == "tls_server_config") {
      if (!value.IsMap())
        return config_error(path, value.Mark(), "tls_server_config: expected a mapping");
      TlsFiles tls;
      for (const auto& t : value) {
        const auto k = t.first.as<std::string>();
        if (!t.second.IsScalar())
          return config_error(path, t.second.Mark(), k + ": expected a string");
        if (k == "cert_file") {
          tls.cert_file = file(t.second);
        } else if (k == "key_file") {
          tls.key_file = file(t.second);
        } else if (k == "client_ca_file") {
          tls.client_ca_file = file(t.second);
        } else if (k == "client_auth_type") {
          const auto v = t.second.as<std::string>();
          if (v != "RequireAndVerifyClientCert" && v != "NoClientCert") {
            return config_error(path, t.second.Mark(),
                                "client_auth_type: RequireAndVerifyClientCert or NoClientCert");
          }
          tls.require_client_cert = v == "RequireAndVerifyClientCert";
        } else {
          return config_error(path, t.first.Mark(), "tls_server_config: unknown key '" + k + "'");
        }
      }
      if (tls.cert_file.empty() || tls.key_file.empty()) {
        return config_error(path, kv.first.Mark(),
                            "tls_server_config needs cert_file and key_file");
      }
      if (tls.require_client_cert && tls.client_ca_file.empty()) {
        return config_error(path, kv.first.Mark(),
                            "client_auth_type RequireAndVerifyClientCert needs client_ca_file");
      }
      if (!tls.client_ca_file.empty()) tls.require_client_cert = true;
      out.tls = tls;
    } else if (key == "basic_auth_users") {
      if (!value.IsMap())
        return config_error(path, value.Mark(), "basic_auth_users: expected a mapping");
      for (const auto& u : value) {
        const auto hash = u.second.IsScalar() ? u.second.as<std::string>() : std::string();
        if (!bcrypt_hash(hash)) {
          return config_error(path, u.second.Mark(),
                              "the password of '" + u.first.as<std::string>() +
                                  "' must be a bcrypt hash ($2y$…, 60 characters)");
        }
        out.basic_auth_users[u.first.as<std::string>()] = hash;
      }
    } else {
      return config_error(path, kv.first.Mark(), "unknown key '" + key + "'");
    }
  }
  return out;
}

bool BasicAuth::verify(const std::string& authorization) {
  const std::string prefix = "Basic ";
  if (users_.empty() || authorization.rfind(prefix, 0) != 0 || authorization.size() > 1024) {
    return false;
  }
  const std::lock_guard lock(mutex_);
  if (verified_.count(authorization) != 0) return true;
  const double now =
      std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  if (now - window_start_ >= 1) {
    window_start_ = now;
    failures_in_window_ = 0;
  }
  if (failures_in_window_ >= 5) return false;  // guessing: refused unchecked for a while
  const std::string pair = decode_base64(authorization.substr(prefix.size()));
  const auto colon = pair.find(':');
  const auto user = users_.find(pair.substr(0, colon));
  bool good = false;
  if (colon != std::string::npos && user != users_.end()) {
    crypt_data data{};
    const char* hashed = crypt_r(pair.substr(colon + 1).c_str(), user->second.c_str(), &data);
    good = hashed != nullptr && constant_time_equal(hashed, user->second);
  }
  if (!good) {
    ++failures_in_window_;
    return false;
  }
  if (verified_.size() >= 16) verified_.clear();
  verified_.insert(authorization);
  return true;
}

}  // namespace freezr::serve

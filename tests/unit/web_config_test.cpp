// The web configuration (Prometheus' web.yml format) and basic auth against bcrypt hashes.
#include "serve/web_config.h"

#include <crypt.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace freezr::serve {
namespace {

namespace stdfs = std::filesystem;

struct Scratch {
  Scratch() : dir(stdfs::temp_directory_path() / ("freezr-web-" + std::to_string(getpid()))) {
    stdfs::create_directories(dir);
  }
  ~Scratch() { stdfs::remove_all(dir); }
  std::string write(const std::string& text) const {
    const auto path = (dir / "web.yml").string();
    std::ofstream(path) << text;
    return path;
  }
  stdfs::path dir;
};

std::string bcrypt(const std::string& password) {
  crypt_data data{};
  return crypt_r(password.c_str(), "$2b$04$abcdefghijklmnopqrstuu", &data);
}

std::string base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto byte = [&](std::size_t i) {
    return i < in.size() ? static_cast<unsigned>(static_cast<unsigned char>(in[i])) : 0U;
  };
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + base64(user + ":" + password);
}

TEST(WebConfig, ReadsTlsAndUsersWithPathsRelativeToTheFile) {
  Scratch s;
  const auto hash = bcrypt("s3cret");
  const auto path = s.write(
      "tls_server_config:\n  cert_file: tls/server.crt\n"
      "  key_file: /etc/ssl/server.key\n  client_ca_file: ca.crt\n"
      "basic_auth_users:\n  alice: " +
      hash + "\n");
  const auto w = load_web_config(path);
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE(w->tls);
  EXPECT_EQ(w->tls->cert_file, (s.dir / "tls/server.crt").string());
  EXPECT_EQ(w->tls->key_file, "/etc/ssl/server.key");
  EXPECT_TRUE(w->tls->require_client_cert);
  EXPECT_EQ(w->basic_auth_users.at("alice"), hash);
  EXPECT_TRUE(load_web_config(s.write("")));  // empty: nothing asked
}

TEST(WebConfig, ErrorsNameTheFileLineAndColumn) {
  Scratch s;
  const std::pair<std::string, std::string> cases[] = {
      {"tls_server_config:\n  cert_file: a\n",
       ":1:1: tls_server_config needs cert_file and key_file"},
      {"basic_auth_users:\n  bob: plaintext\n",
       ":2:8: the password of 'bob' must be a bcrypt hash"},
      {"tls_server_cfg: {}\n", ":1:1: unknown key 'tls_server_cfg'"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Sometimes\n",
       ":4:21: client_auth_type"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: "
       "RequireAndVerifyClientCert\n",
       "needs client_ca_file"},
      {"basic_auth_users: [\n", ":2:"},
  };
  for (const auto& [text, expected] : cases) {
    const auto path = s.write(text);
    const auto w = load_web_config(path);
    ASSERT_FALSE(w) << text;
    EXPECT_NE(w.error().message.find(path), std::string::npos) << w.error().message;
    EXPECT_NE(w.error().message.find(expected), std::string::npos) << w.error().message;
  }
  EXPECT_FALSE(load_web_config((s.dir / "absent.yml").string()));
}

// Every ```yaml block of the README is a web configuration that loads.
TEST(WebConfig, TheReadmeExamplesLoad) {
  Scratch s;
  std::ifstream in(std::string(FREEZR_SOURCE_DIR) + "/README.md");
  std::string line, block;
  bool inside = false;
  int blocks = 0;
  while (std::getline(in, line)) {
    if (!inside && line == "```yaml") {
      inside = true;
      block.clear();
    } else if (inside && line == "```") {
      inside = false;
      const auto w = load_web_config(s.write(block));
      EXPECT_TRUE(w) << block << (w ? "" : w.error().message);
      ++blocks;
    } else if (inside) {
      block += line + "\n";
    }
  }
  EXPECT_GE(blocks, 1);
}

TEST(BasicAuth, VerifiesBcryptRemembersGoodAnswersAndLimitsGuessing) {
  BasicAuth auth({{"alice", bcrypt("s3cret")}});
  EXPECT_TRUE(auth.verify(basic("alice", "s3cret")));
  EXPECT_TRUE(auth.verify(basic("alice", "s3cret")));  // remembered
  EXPECT_FALSE(auth.verify(basic("alice", "wrong")));
  EXPECT_FALSE(auth.verify(basic("mallory", "s3cret")));
  EXPECT_FALSE(auth.verify("Bearer s3cret"));
  EXPECT_FALSE(auth.verify("Basic !!!"));
  for (int i = 0; i < 10; ++i) (void)auth.verify(basic("alice", "guess" + std::to_string(i)));
  // Guessing is refused unchecked for a while; a remembered good answer still passes.
  EXPECT_TRUE(auth.verify(basic("alice", "s3cret")));
}

}  // namespace
}  // namespace freezr::serve

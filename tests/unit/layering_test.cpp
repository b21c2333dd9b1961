// The pure layers stay pure: no OS, database or Boost headers in core, engine, or the /proc
// parsers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

namespace {

TEST(Layering, PureLayersIncludeNoSystemHeaders) {
  const std::filesystem::path src = std::string(FREEZR_SOURCE_DIR) + "/src";
  std::vector<std::filesystem::path> files;
  for (const char* dir : {"core", "engine"}) {
    for (const auto& e : std::filesystem::directory_iterator(src / dir)) files.push_back(e.path());
  }
  files.push_back(src / "proc" / "parse.h");
  files.push_back(src / "proc" / "parse.cpp");
  const std::regex forbidden(R"(#include\s*<(sys/|unistd\.h|sqlite|boost/|systemd/|fcntl\.h))");
  int checked = 0;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line)) {
      EXPECT_FALSE(std::regex_search(line, forbidden)) << f << ": " << line;
    }
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

// Each room includes only the rooms below it (the map in the README's architecture section).
TEST(Layering, EachRoomIncludesOnlyWhatItMayUse) {
  const std::filesystem::path src = std::string(FREEZR_SOURCE_DIR) + "/src";
  const std::map<std::string, std::set<std::string>> may = {
      {"core", {"core"}},
      {"fs", {"core", "fs"}},
      {"proc", {"core", "proc"}},
      {"engine", {"core", "proc", "engine"}},
      {"scan", {"core", "proc", "engine", "scan"}},
      {"config", {"core", "fs", "proc", "engine", "config"}},
      {"store", {"core", "fs", "store"}},
      {"act", {"core", "fs", "proc", "engine", "store", "act"}},
      {"os", {"core", "fs", "proc", "os"}},
      {"ui", {"core", "proc", "engine", "config", "ui"}},
      {"serve", {"core", "fs", "proc", "engine", "store", "serve"}},
      {"notify", {"core", "fs", "proc", "engine", "config", "store", "act", "serve", "notify"}},
      {"report",
       {"core", "fs", "proc", "engine", "scan", "config", "store", "act", "ui", "serve", "report"}},
      {"daemon",
       {"core", "fs", "proc", "engine", "scan", "config", "store", "act", "os", "ui", "serve",
        "notify", "report", "daemon"}},
      // The CLI sees the daemon's interface (daemon.h: its options) but does not link it; it
      // signals the daemon through the instance lock (`freezr profile`).
      {"cli",
       {"core", "fs", "proc", "engine", "scan", "config", "store", "act", "ui", "serve", "cli",
        "daemon/daemon.h", "os/instance_lock.h"}},
  };
  const std::regex include(R"re(#include\s*"(\w+)/([\w.]+)")re");
  int checked = 0;
  for (const auto& [room, allowed] : may) {
    for (const auto& e : std::filesystem::directory_iterator(src / room)) {
      std::ifstream in(e.path());
      std::string line;
      while (std::getline(in, line)) {
        std::smatch m;
        if (!std::regex_search(line, m, include)) continue;
        const bool ok =
            allowed.count(m[1]) != 0U || allowed.count(m[1].str() + "/" + m[2].str()) != 0U;
        EXPECT_TRUE(ok) << e.path() << " includes " << m[1] << "/" << m[2];
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 100);
}

}  // namespace

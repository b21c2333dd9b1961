// The pure layers stay pure: no OS, database or Boost headers in core, engine, or the /proc
// parsers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

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

}  // namespace

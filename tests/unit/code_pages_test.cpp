#include "os/code_pages.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

namespace freezr::os {
namespace {

std::string mapping(const char* range, const char* perms, const char* path, int rss, int anon,
                    const char* flags = "rd ex mr mw me") {
  return std::string(range) + " " + perms + " 00002000 fe:00 247498                     " + path +
         "\nSize:                 24 kB\nRss:                 " + std::to_string(rss) +
         " kB\nPss:                 24 kB\nAnonymous:            " + std::to_string(anon) +
         " kB\nAnonHugePages:        0 kB\nVmFlags: " + flags + "\n";
}

TEST(CodePages, OnlyCleanReadOnlyFileMappingsAreReleasable) {
  const std::string smaps =
      mapping("55911a0b3000-55911a0b9000", "r-xp", "/usr/bin/freezr", 24, 0) +  // code
      mapping("55911a0b9000-55911a0bb000", "r--p", "/usr/bin/freezr", 8, 8) +   // RELRO
      mapping("55911a0bb000-55911a0bc000", "rw-p", "/usr/bin/freezr", 4, 0) +   // data
      mapping("7fd07577e000-7fd0758d4000", "r-xp", "/usr/lib/libc.so.6", 900, 0,
              "rd ex mr mw me lo") +  // code, locked
      mapping("7fd0758d4000-7fd0758d5000", "r-xp", "/usr/lib/gone.so (deleted)", 4, 0) +
      mapping("7fd0758d5000-7fd0758d6000", "r-xs", "/dev/shm/shared", 4, 0) +  // shared
      mapping("7fd0758d6000-7fd0758d7000", "r-xp", "[vdso]", 4, 0) +
      mapping("7fd0758d7000-7fd0758d8000", "r--p", "/usr/lib/cold.so", 0, 0);  // not resident
  const auto m = releasable_mappings(smaps);
  ASSERT_EQ(m.size(), 2U);
  EXPECT_EQ(m[0].start, 0x55911a0b3000U);
  EXPECT_EQ(m[0].end, 0x55911a0b9000U);
  EXPECT_EQ(m[0].rss_kib, 24U);
  EXPECT_FALSE(m[0].locked);
  EXPECT_EQ(m[1].start, 0x7fd07577e000U);
  EXPECT_EQ(m[1].rss_kib, 900U);
  EXPECT_TRUE(m[1].locked);
}

TEST(CodePages, ThisProcessSheddesItsCodeAndRunsOn) {
  std::ifstream in("/proc/self/smaps");
  const std::string before((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(releasable_mappings(before).empty()) << "a running test has resident code";
  const auto done = release_code_pages();
  EXPECT_GT(done.mappings, 0U);
  EXPECT_GT(done.released_kib, 0U);
  // The code runs on (its pages come back from the page cache), and what was copied on write
  // is intact.
  std::string s = "still";
  s += " here";
  EXPECT_EQ(std::strlen(s.c_str()), 10U);
  EXPECT_EQ(s, "still here");
}

TEST(CodePages, LockedCodeStaysLockedAsItComesBack) {
  // As the daemon locks itself (mlockall on fault); CI runs as root.
  ASSERT_EQ(::mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT), 0) << std::strerror(errno);
  const auto done = release_code_pages();
  EXPECT_GT(done.mappings, 0U);
  std::ifstream in("/proc/self/smaps");
  const std::string after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::munlockall();
  std::size_t code = 0, unlocked = 0;
  std::size_t at = 0;
  bool in_code = false;
  while (at < after.size()) {
    auto nl = after.find('\n', at);
    if (nl == std::string::npos) nl = after.size();
    const std::string line = after.substr(at, nl - at);
    at = nl + 1;
    if (line.find(" r-xp ") != std::string::npos && line.find('/') != std::string::npos) {
      in_code = true;
      ++code;
    } else if (in_code && line.rfind("VmFlags:", 0) == 0) {
      if ((line + " ").find(" lo ") == std::string::npos) ++unlocked;
      in_code = false;
    }
  }
  EXPECT_GT(code, 0U);
  EXPECT_EQ(unlocked, 0U) << after;
}

}  // namespace
}  // namespace freezr::os

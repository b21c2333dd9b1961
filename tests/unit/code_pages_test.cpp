#include "os/code_pages.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>

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

// Code mappings of an smaps text: how many, and how many of them are locked.
std::pair<std::size_t, std::size_t> code_locked(const std::string& smaps) {
  std::size_t code = 0, locked = 0;
  std::size_t at = 0;
  bool in_code = false;
  while (at < smaps.size()) {
    auto nl = smaps.find('\n', at);
    if (nl == std::string::npos) nl = smaps.size();
    const std::string line = smaps.substr(at, nl - at);
    at = nl + 1;
    if (line.find(" r-xp ") != std::string::npos && line.find('/') != std::string::npos) {
      in_code = true;
      ++code;
    } else if (in_code && line.rfind("VmFlags:", 0) == 0) {
      if ((line + " ").find(" lo ") != std::string::npos) ++locked;
      in_code = false;
    }
  }
  return {code, locked};
}

std::string own_smaps() {
  std::ifstream in("/proc/self/smaps");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(CodePages, LockedCodeStaysLockedAsItComesBack) {
  // As the daemon locks itself (mlockall on fault); CI runs as root. The system call itself:
  // sanitizer runtimes turn the libc wrapper into a no-op.
  ASSERT_EQ(::syscall(SYS_mlockall, MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT), 0)
      << std::strerror(errno);
  const auto before = code_locked(own_smaps());
  const auto done = release_code_pages();
  const auto after = code_locked(own_smaps());
  ::syscall(SYS_munlockall);
  ASSERT_GT(before.second, 0U) << "mlockall locked the code mappings";
  EXPECT_GT(done.mappings, 0U);
  EXPECT_EQ(after.second, before.second) << "every mapping locked before is locked after";
}

}  // namespace
}  // namespace freezr::os

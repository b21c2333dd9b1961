#include "os/code_pages.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <string>

namespace freezr::os {

namespace {

std::size_t hex(std::string_view s) {
  std::size_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v, 16);
  return v;
}

// "Rss:      123 kB" -> 123 when line starts with key.
bool field_kib(std::string_view line, std::string_view key, std::size_t& out) {
  if (!line.starts_with(key)) return false;
  line.remove_prefix(key.size());
  const auto digits = line.find_first_of("0123456789");
  if (digits == std::string_view::npos) return false;
  line.remove_prefix(digits);
  std::from_chars(line.data(), line.data() + line.size(), out);
  return true;
}

}  // namespace

std::vector<Mapping> releasable_mappings(std::string_view smaps) {
  std::vector<Mapping> out;
  Mapping m;
  bool candidate = false;
  std::size_t anonymous = 0;
  auto close = [&] {
    if (candidate && anonymous == 0 && m.rss_kib > 0) out.push_back(m);
    candidate = false;
  };
  std::size_t at = 0;
  while (at < smaps.size()) {
    auto nl = smaps.find('\n', at);
    if (nl == std::string_view::npos) nl = smaps.size();
    const std::string_view line = smaps.substr(at, nl - at);
    at = nl + 1;
    // A mapping's header: "start-end perms offset dev inode [path]"; its fields follow.
    const auto dash = line.find('-');
    const auto space = line.find(' ');
    if (dash != std::string_view::npos && space != std::string_view::npos && dash < space &&
        line.substr(0, dash).find_first_not_of("0123456789abcdef") == std::string_view::npos) {
      close();
      m = Mapping{hex(line.substr(0, dash)), hex(line.substr(dash + 1, space - dash - 1)), 0,
                  false};
      const auto perms = line.substr(space + 1, 4);
      const auto slash = line.find('/');
      candidate = perms.size() == 4 && perms[1] != 'w' && perms[3] == 'p' && perms[0] == 'r' &&
                  slash != std::string_view::npos && !line.ends_with(" (deleted)");
      anonymous = 0;
      continue;
    }
    if (line.starts_with("VmFlags:"))
      m.locked = (std::string(line) + " ").find(" lo ") != std::string::npos;
    std::size_t v = 0;
    if (field_kib(line, "Rss:", v)) m.rss_kib = v;
    if (field_kib(line, "Anonymous:", v)) anonymous = v;
  }
  close();
  return out;
}

CodePages release_code_pages() {
  std::ifstream in("/proc/self/smaps");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CodePages done;
  for (const auto& m : releasable_mappings(text)) {
    auto* at = reinterpret_cast<void*>(m.start);
    const std::size_t len = m.end - m.start;
    // The system calls themselves: sanitizer runtimes turn the libc wrappers into no-ops.
    if (m.locked && ::syscall(SYS_munlock, at, len) != 0) continue;
    const bool released = ::madvise(at, len, MADV_DONTNEED) == 0;
    if (m.locked) ::syscall(SYS_mlock2, at, len, MLOCK_ONFAULT);
    if (!released) continue;
    ++done.mappings;
    done.released_kib += m.rss_kib;
  }
  return done;
}

}  // namespace freezr::os

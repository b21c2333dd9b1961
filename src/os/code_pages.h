// Start-up code leaves pages of the binary and its libraries mapped that the loop never runs
// again (configuration parsing, pre-flight checks, migrations). release_code_pages drops this
// process's mappings of them: code pages never written, which stay in the page cache (clean,
// shared), so what the loop runs next is mapped again at the cost of a minor fault and the
// resident set becomes the working set.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace freezr::os {

struct Mapping {
  std::size_t start = 0, end = 0, rss_kib = 0;
  bool locked = false;  // under mlock (FreezR locks its memory): locked again as pages come back
};

// The mappings of an smaps text that may be released: mapped from a file, private, not
// writable, resident, and without a page of their own (no copy-on-write copy: RELRO data was
// written before it was made read-only).
std::vector<Mapping> releasable_mappings(std::string_view smaps);

struct CodePages {
  std::size_t mappings = 0;      // mappings released
  std::size_t released_kib = 0;  // their resident size before
};

// Releases this process's releasable mappings (/proc/self/smaps). A locked one is unlocked,
// released and locked again on fault: the pages the loop brings back stay locked, as
// mlockall(MCL_ONFAULT) keeps them, and the ones it never runs no longer hold locked memory.
CodePages release_code_pages();

}  // namespace freezr::os

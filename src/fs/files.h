// Files FreezR reads and writes, opened so that what sits at a path cannot turn FreezR against
// the machine: configuration read only from regular files of bounded size, and FreezR's own
// files created inside directories it opened and checked (see Directory).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace freezr::fs {

// Reads the regular file at path (a link to one is followed: the caller named the path), at
// most max_bytes. Opening never blocks, so a FIFO is refused rather than waited on; so are
// directories, devices and sockets, each with the reason.
Result<std::string> read_regular_file(const std::string& path, std::size_t max_bytes);

// What kind of file mode describes, for messages ("a directory", "a FIFO", ...).
const char* kind_of(unsigned mode);

}  // namespace freezr::fs

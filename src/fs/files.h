// Files FreezR reads and writes, opened so that what sits at a path cannot turn FreezR against
// the machine: configuration read only from regular files of bounded size, and FreezR's own
// files created inside directories it opened and checked (see Directory).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"

namespace freezr::fs {

// Reads the regular file at path (a link to one is followed: the caller named the path), at
// most max_bytes. Opening never blocks, so a FIFO is refused rather than waited on; so are
// directories, devices and sockets, each with the reason.
Result<std::string> read_regular_file(const std::string& path, std::size_t max_bytes);

// Reads fd from where it stands to its end, at most max_bytes; more is an EFBIG error whose
// message says the bound ("is larger than N KiB").
Result<std::string> read_to_end(int fd, std::size_t max_bytes);

// What kind of file mode describes, for messages ("a directory", "a FIFO", ...).
const char* kind_of(unsigned mode);

// A directory FreezR writes in (its data and log directories), opened once and checked so that
// nobody else can plant a link or a file in it: created with mode 0750 where missing (parents
// too), never through a link at its last component, owned by FreezR's user, and writable by
// neither its group nor others. Every file FreezR creates there is opened relative to it,
// without following links; files that libraries open by path (SQLite, the log sink) are safe
// because the directory is FreezR's alone, and are checked with check_entry first.
class Directory {
 public:
  // Opens (creating it where missing) and checks path; the error names the path and why.
  static Result<Directory> open(const std::string& path);

  Directory(Directory&& other) noexcept;
  Directory& operator=(Directory&& other) noexcept;
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;
  ~Directory();

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] bool created() const { return created_; }
  [[nodiscard]] std::string path_of(std::string_view name) const;

  // Opens name (one path component) with flags | O_CREAT, never through a link: a regular file
  // owned by FreezR's user, created with mode, and tightened to mode if it was looser.
  [[nodiscard]] Result<int> create_file(std::string_view name, int flags, unsigned mode) const;
  // Opens the existing file name with flags, never through a link: a regular file owned by
  // FreezR's user.
  [[nodiscard]] Result<int> open_existing(std::string_view name, int flags) const;
  // Writes content to a fresh name.tmp (O_EXCL) and renames it over name, so a reader never
  // sees a torn file and no link is followed. With sync, the file and the directory are on
  // disk when it returns.
  [[nodiscard]] Result<void> write_atomically(std::string_view name, std::string_view content,
                                              unsigned mode = 0640, bool sync = false) const;

  // An exclusive flock of the directory, held until the Lock is destroyed: what FreezR's
  // processes (the daemon, `freezr thaw`) take around a read-modify-write of a file there.
  class Lock {
   public:
    explicit Lock(int fd) : fd_(fd) {}
    Lock(Lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Lock& operator=(Lock&&) = delete;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    ~Lock();

   private:
    int fd_;
  };
  [[nodiscard]] Result<Lock> lock() const;
  // When name exists: refuses it unless it is a regular file (not a link) owned by FreezR's
  // user. For files a library opens by path.
  [[nodiscard]] Result<void> check_entry(std::string_view name) const;
  // Creates, writes and removes a probe file: the directory is writable.
  [[nodiscard]] Result<void> probe_writable() const;
  // Removes name when it exists (a link is removed, never followed).
  [[nodiscard]] Result<void> remove(std::string_view name) const;
  // Renames from over to, both in this directory.
  [[nodiscard]] Result<void> rename(std::string_view from, std::string_view to) const;

 private:
  Result<int> open_checked(std::string_view name, int flags, unsigned mode) const;
  Directory(int fd, std::string path, bool created)
      : fd_(fd), path_(std::move(path)), created_(created) {}
  int fd_ = -1;
  std::string path_;
  bool created_ = false;
};

}  // namespace freezr::fs

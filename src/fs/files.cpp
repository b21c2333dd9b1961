#include "fs/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace freezr::fs {

const char* kind_of(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "a regular file";
    case S_IFDIR:
      return "a directory";
    case S_IFIFO:
      return "a FIFO";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFSOCK:
      return "a socket";
    case S_IFLNK:
      return "a symbolic link";
    default:
      return "not a regular file";
  }
}

Result<std::string> read_regular_file(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return Error(errno, std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error(errno, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    return error_of(ErrorKind::kConfig,
                    std::string("is ") + kind_of(st.st_mode) + ", not a regular file");
  }
  auto text = read_to_end(fd, max_bytes);
  if (!text && text.error().code == EFBIG)
    return error_of(ErrorKind::kConfig, text.error().message);
  return text;
}

Result<std::string> read_to_end(int fd, std::size_t max_bytes) {
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(errno, std::strerror(errno));
    if (n == 0) return text;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_bytes) {
      return Error(EFBIG, "is larger than " + std::to_string(max_bytes / 1024) + " KiB");
    }
  }
}

}  // namespace freezr::fs

namespace freezr::fs {

namespace {

Error refusal(const std::string& path, const std::string& why, int code = 0) {
  return Error(code, "refusing " + path + ": " + why,
               code == 0 ? std::optional<ErrorKind>(ErrorKind::kPermission) : std::nullopt);
}

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

// Creates the missing directories of path, each with mode 0750.
Result<bool> make_directories(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return false;
  bool created = false;
  for (std::size_t at = path.find('/', 1);; at = path.find('/', at + 1)) {
    const std::string part = path.substr(0, at);
    if (!part.empty() && ::mkdir(part.c_str(), 0750) == 0) {
      created = true;
    } else if (!part.empty() && errno != EEXIST) {
      return Error(errno, "cannot create " + part + ": " + std::strerror(errno));
    }
    if (at == std::string::npos) break;
  }
  return created;
}

// Why st (of something FreezR is to own) is not safe, or "".
std::string unsafe_owner_or_mode(const struct stat& st, bool directory) {
  if (st.st_uid != ::geteuid()) {
    return "owned by UID " + std::to_string(st.st_uid) + ", not by FreezR's user (UID " +
           std::to_string(::geteuid()) + ")";
  }
  if (directory && (st.st_mode & 022) != 0) {
    return std::string("writable by ") + ((st.st_mode & 002) != 0 ? "others" : "its group") +
           " (mode " + octal(st.st_mode) +
           "): anyone who can write there could plant links to FreezR's files; chmod go-w it";
  }
  return {};
}

}  // namespace

Result<Directory> Directory::open(const std::string& path) {
  if (path.empty()) return refusal(path, "an empty directory name");
  auto created = make_directories(path);
  if (!created) return created.error();
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      return refusal(path, "it is a symbolic link (give the directory itself)");
    }
    if (err == ENOTDIR) return refusal(path, "not a directory");
    return Error(err, "cannot open " + path + ": " + std::strerror(err));
  }
  Directory dir(fd, path, *created);
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return Error(errno, "cannot stat " + path + ": " + std::strerror(errno));
  if (auto why = unsafe_owner_or_mode(st, true); !why.empty()) return refusal(path, why);
  return dir;
}

Directory::Directory(Directory&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)), created_(other.created_) {
  other.fd_ = -1;
}

Directory& Directory::operator=(Directory&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    created_ = other.created_;
    other.fd_ = -1;
  }
  return *this;
}

Directory::~Directory() {
  if (fd_ >= 0) ::close(fd_);
}

std::string Directory::path_of(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

Result<int> Directory::create_file(std::string_view name, int flags, unsigned mode) const {
  return open_checked(name, flags | O_CREAT, mode);
}

Result<int> Directory::open_existing(std::string_view name, int flags) const {
  return open_checked(name, flags & ~O_CREAT, 0);
}

Result<int> Directory::open_checked(std::string_view name, int flags, unsigned mode) const {
  const std::string n(name);
  if (n.empty() || n.find('/') != std::string::npos)
    return refusal(path_of(name), "not a file name");
  const int fd = ::openat(fd_, n.c_str(), flags | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
                          static_cast<mode_t>(mode));
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP) return refusal(path_of(name), "it is a symbolic link");
    return Error(err, "cannot open " + path_of(name) + ": " + std::strerror(err));
  }
  struct stat st {};
  std::string why;
  if (::fstat(fd, &st) != 0) {
    why = std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    why = std::string("it is ") + kind_of(st.st_mode) + ", not a regular file";
  } else {
    why = unsafe_owner_or_mode(st, false);
  }
  if (why.empty() && mode != 0 && (st.st_mode & 0777 & ~mode) != 0 &&
      ::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    why = std::string("cannot tighten its mode: ") + std::strerror(errno);
  }
  if (!why.empty()) {
    ::close(fd);
    return refusal(path_of(name), why);
  }
  return fd;
}

Result<void> Directory::write_atomically(std::string_view name, std::string_view content,
                                         unsigned mode, bool sync) const {
  const std::string tmp = std::string(name) + ".tmp";
  if (auto r = remove(tmp); !r) return r;
  auto fd = create_file(tmp, O_WRONLY | O_EXCL, mode);
  if (!fd) return fd.error();
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(*fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(*fd);
      (void)remove(tmp);
      return Error(err, "cannot write " + path_of(tmp) + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = !sync || ::fsync(*fd) == 0;
  const int sync_error = errno;
  if (::close(*fd) != 0 || !synced) {
    const int err = synced ? errno : sync_error;
    (void)remove(tmp);
    return Error(err, "cannot write " + path_of(tmp) + ": " + std::strerror(err));
  }
  if (auto r = rename(tmp, name); !r) {
    (void)remove(tmp);
    return r;
  }
  if (sync && ::fsync(fd_) != 0) {
    return Error(errno, "cannot sync " + path_ + ": " + std::strerror(errno));
  }
  return {};
}

Directory::Lock::~Lock() {
  if (fd_ >= 0) ::flock(fd_, LOCK_UN);
}

Result<Directory::Lock> Directory::lock() const {
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) return Error(errno, "cannot lock " + path_ + ": " + std::strerror(errno));
  }
  return Lock(fd_);
}

Result<void> Directory::check_entry(std::string_view name) const {
  struct stat st {};
  if (::fstatat(fd_, std::string(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return {};
    return Error(errno, "cannot stat " + path_of(name) + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return refusal(path_of(name),
                   std::string("it is ") + kind_of(st.st_mode) + ", not a regular file");
  }
  if (auto why = unsafe_owner_or_mode(st, false); !why.empty()) return refusal(path_of(name), why);
  return {};
}

Result<void> Directory::probe_writable() const {
  const std::string name = ".write_test." + std::to_string(::getpid());
  if (auto r = remove(name); !r) return r;
  auto fd = create_file(name, O_WRONLY | O_EXCL, 0600);
  if (!fd) return fd.error();
  const bool wrote = ::write(*fd, "ok", 2) == 2;
  const int err = errno;
  ::close(*fd);
  (void)remove(name);
  if (!wrote) return Error(err, path_ + " is not writable: " + std::strerror(err));
  return {};
}

Result<void> Directory::remove(std::string_view name) const {
  if (::unlinkat(fd_, std::string(name).c_str(), 0) != 0 && errno != ENOENT) {
    return Error(errno, "cannot remove " + path_of(name) + ": " + std::strerror(errno));
  }
  return {};
}

Result<void> Directory::rename(std::string_view from, std::string_view to) const {
  if (::renameat(fd_, std::string(from).c_str(), fd_, std::string(to).c_str()) != 0) {
    return Error(errno, "cannot rename " + path_of(from) + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace freezr::fs

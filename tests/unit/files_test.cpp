// FreezR's own directories and files: created private whatever the umask, never followed
// through a planted link, refused when someone else could write there.
#include "fs/files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace freezr::fs {
namespace {

namespace stdfs = std::filesystem;

class Scratch {
 public:
  Scratch()
      : path_(stdfs::temp_directory_path() /
              ("freezr-files-" + std::to_string(getpid()) + "-" + std::to_string(counter_++))) {
    stdfs::create_directory(path_);
    stdfs::permissions(path_, stdfs::perms::owner_all);
  }
  ~Scratch() { stdfs::remove_all(path_); }
  [[nodiscard]] std::string at(const std::string& name) const { return (path_ / name).string(); }

 private:
  static inline int counter_ = 0;
  stdfs::path path_;
};

unsigned mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string content_of(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs f with the process umask set to mask.
template <typename F>
void with_umask(mode_t mask, F f) {
  const mode_t old = ::umask(mask);
  f();
  ::umask(old);
}

TEST(Directory, CreatedPrivateWhateverTheUmaskWithItsFiles) {
  Scratch s;
  with_umask(0, [&] {
    auto d = Directory::open(s.at("a/b"));
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_TRUE(d->created());
    EXPECT_EQ(mode_of(s.at("a")), 0750U);
    EXPECT_EQ(mode_of(s.at("a/b")), 0750U);
    ASSERT_TRUE(d->write_atomically("status.json", "{}\n"));
    EXPECT_EQ(mode_of(s.at("a/b/status.json")), 0640U);
    EXPECT_FALSE(stdfs::exists(s.at("a/b/status.json.tmp")));
    auto fd = d->create_file("freezr.db", O_RDWR, 0640);
    ASSERT_TRUE(fd);
    ::close(*fd);
    EXPECT_EQ(mode_of(s.at("a/b/freezr.db")), 0640U);
    EXPECT_TRUE(d->probe_writable());
    EXPECT_EQ(std::distance(stdfs::directory_iterator(s.at("a/b")), {}), 2);  // no probe left
  });
  auto again = Directory::open(s.at("a/b"));
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created());
}

TEST(Directory, RefusesALinkAFileAndAWritableDirectoryNamingWhy) {
  Scratch s;
  stdfs::create_directory(s.at("real"));
  stdfs::create_directory_symlink(s.at("real"), s.at("link"));
  auto link = Directory::open(s.at("link"));
  ASSERT_FALSE(link);
  EXPECT_NE(link.error().message.find(s.at("link") + ": it is a symbolic link"), std::string::npos)
      << link.error().message;
  std::ofstream(s.at("file")) << "x";
  auto file = Directory::open(s.at("file"));
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().message.find("not a directory"), std::string::npos);
  for (const auto perms : {stdfs::perms::owner_all | stdfs::perms::group_all, stdfs::perms::all}) {
    stdfs::permissions(s.at("real"), perms);
    auto open = Directory::open(s.at("real"));
    ASSERT_FALSE(open);
    EXPECT_NE(open.error().message.find("writable by"), std::string::npos) << open.error().message;
  }
  if (::geteuid() == 0) {
    stdfs::permissions(s.at("real"), stdfs::perms::owner_all);
    ASSERT_EQ(::chown(s.at("real").c_str(), 65534, 65534), 0);
    auto theirs = Directory::open(s.at("real"));
    ASSERT_FALSE(theirs);
    EXPECT_NE(theirs.error().message.find("owned by UID 65534"), std::string::npos)
        << theirs.error().message;
  }
}

TEST(Directory, PlantedLinksAreNeverFollowed) {
  Scratch s;
  auto d = Directory::open(s.at("data"));
  ASSERT_TRUE(d);
  std::ofstream(s.at("precious")) << "precious\n";
  ::chmod(s.at("precious").c_str(), 0600);
  for (const char* name : {"status.json.tmp", "freezr.db", "status.json"}) {
    stdfs::create_symlink(s.at("precious"), s.at(std::string("data/") + name));
  }
  // The temporary's link is removed, not written through; the final rename replaces the link
  // at status.json itself.
  ASSERT_TRUE(d->write_atomically("status.json", "{}\n"));
  EXPECT_FALSE(stdfs::is_symlink(s.at("data/status.json")));
  auto db = d->create_file("freezr.db", O_RDWR, 0640);
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("symbolic link"), std::string::npos) << db.error().message;
  auto entry = d->check_entry("freezr.db");
  ASSERT_FALSE(entry);
  EXPECT_NE(entry.error().message.find("a symbolic link, not a regular file"), std::string::npos);
  EXPECT_TRUE(d->check_entry("absent"));
  EXPECT_EQ(content_of(s.at("precious")), "precious\n");
  EXPECT_EQ(mode_of(s.at("precious")), 0600U);
  stdfs::create_directory(s.at("data/dir"));
  EXPECT_FALSE(d->create_file("dir", O_RDWR, 0640));
  EXPECT_FALSE(d->create_file("../escape", O_RDWR, 0640));
}

TEST(Directory, AFileLeftLooserIsTightened) {
  Scratch s;
  auto d = Directory::open(s.at("data"));
  ASSERT_TRUE(d);
  std::ofstream(s.at("data/freezr.db")) << "";
  ::chmod(s.at("data/freezr.db").c_str(), 0666);
  auto fd = d->create_file("freezr.db", O_RDWR, 0640);
  ASSERT_TRUE(fd);
  ::close(*fd);
  EXPECT_EQ(mode_of(s.at("data/freezr.db")), 0640U);
}

TEST(ReadRegularFile, RefusesWhatIsNotARegularFileAndCapsTheSize) {
  Scratch s;
  std::ofstream(s.at("ok.toml")) << "a = 1\n";
  auto ok = read_regular_file(s.at("ok.toml"), 100);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, "a = 1\n");
  ASSERT_EQ(::mkfifo(s.at("fifo").c_str(), 0600), 0);
  auto fifo = read_regular_file(s.at("fifo"), 100);  // returns at once: never waits for a writer
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().message, "is a FIFO, not a regular file");
  EXPECT_EQ(read_regular_file("/dev/zero", 100).error().message,
            "is a character device, not a regular file");
  EXPECT_EQ(read_regular_file(s.at(""), 100).error().message, "is a directory, not a regular file");
  std::ofstream(s.at("big")) << std::string(5000, '#');
  EXPECT_EQ(read_regular_file(s.at("big"), 4096).error().message, "is larger than 4 KiB");
  EXPECT_TRUE(read_regular_file(s.at("missing"), 100).error().gone());
  EXPECT_EQ(read_regular_file(s.at("big"), 4096).error().kind(), ErrorKind::kConfig);
}

TEST(ReadToEnd, ReadsFromWhereTheFileStandsAndStopsPastTheBound) {
  Scratch s;
  std::ofstream(s.at("f")) << "header\nbody";
  const int fd = ::open(s.at("f").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::lseek(fd, 7, SEEK_SET), 7);
  auto rest = read_to_end(fd, 4);
  ASSERT_TRUE(rest);
  EXPECT_EQ(*rest, "body");
  ASSERT_EQ(::lseek(fd, 0, SEEK_SET), 0);
  auto all = read_to_end(fd, 4);
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().code, EFBIG);
  ::close(fd);
}

}  // namespace
}  // namespace freezr::fs

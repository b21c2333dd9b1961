// ProcSource: the only code that opens files under /proc. The root directory is a constructor
// argument so tests can point it at fixture trees.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/types.h"
#include "proc/parse.h"

namespace freezr::proc {

class ProcSource {
 public:
  virtual ~ProcSource() = default;

  // Appends the PIDs of every numeric entry of the root to out (cleared first).
  virtual void list_pids(std::vector<Pid>& out) = 0;

  // Reads <root>/PID/<name> into buf (cleared first). A vanished process gives an Error whose
  // gone() is true.
  virtual Result<bool> read_pid_file(Pid pid, const char* name, std::string& buf) = 0;

  // Target of <root>/PID/exe, without a trailing " (deleted)".
  virtual Result<std::string> read_exe(Pid pid) = 0;

  // Reads a file relative to the root, e.g. "meminfo", "loadavg", "pressure/memory".
  virtual Result<std::string> read_system_file(const char* relative) = 0;

  // Units of the stat fields: ticks per second and bytes per page.
  [[nodiscard]] virtual long clock_ticks() const = 0;
  [[nodiscard]] virtual long page_size() const = 0;
};

// Reads a real /proc (or a copy of one laid out the same way).
class FsProcSource final : public ProcSource {
 public:
  // Throws std::system_error when the root cannot be opened.
  explicit FsProcSource(std::string root = "/proc");
  ~FsProcSource() override;
  FsProcSource(const FsProcSource&) = delete;
  FsProcSource& operator=(const FsProcSource&) = delete;

  void list_pids(std::vector<Pid>& out) override;
  Result<bool> read_pid_file(Pid pid, const char* name, std::string& buf) override;
  Result<std::string> read_exe(Pid pid) override;
  Result<std::string> read_system_file(const char* relative) override;
  [[nodiscard]] long clock_ticks() const override { return ticks_; }
  [[nodiscard]] long page_size() const override { return page_; }
  [[nodiscard]] const std::string& root() const { return root_; }

  // Keeps up to at_most /proc/PID/stat files open between scans and reads them again with
  // pread: the open is the larger part of what a scan costs. Only on a real procfs (a copy laid
  // out the same way is read afresh, so that its files may be replaced); 0 turns it off. A
  // kept file of a process that exited answers ESRCH, never another process's text, so a
  // reused PID is opened afresh.
  void keep_stat_open(std::size_t at_most);
  [[nodiscard]] std::size_t stat_kept() const { return kept_.size(); }

 private:
  Result<bool> read_stat(Pid pid, const char* path, std::string& buf);

  // one_shot: the file gives its whole text to one read (stat, statm): no second read for EOF.
  // With keep, the file is left open and its descriptor stored there.
  Result<bool> read_at(const char* path, std::string& buf, bool one_shot = false,
                       int* keep = nullptr);

  std::string root_;
  int root_fd_ = -1;
  long ticks_;
  long page_;
  bool procfs_ = false;
  std::size_t keep_at_most_ = 0;
  struct Kept {
    int fd = -1;
    std::uint64_t listed = 0;  // the listing that last saw the PID
  };
  std::unordered_map<Pid, Kept> kept_;
  std::uint64_t listing_ = 0;
};

// Everything one scan reads: the stat of every process plus the system files.
struct RawScan {
  std::vector<StatFields> processes;
  std::optional<MemInfo> meminfo;
  std::optional<LoadAvg> loadavg;
  std::optional<Pressure> memory_pressure;
  std::optional<Pressure> cpu_pressure;
  std::optional<Pressure> io_pressure;
  std::size_t unreadable = 0;  // entries that vanished or could not be parsed
};

// One full scan. Vanished processes are skipped silently; malformed ones are counted.
// `pids` and `buf` are scratch storage reused across calls.
void read_all(ProcSource& source, RawScan& out, std::vector<Pid>& pids, std::string& buf);

// The stat of each of `pids` into out.processes (cleared first). With `gone`, the PIDs that
// no longer exist are appended to it.
void read_stats(ProcSource& source, const std::vector<Pid>& pids, RawScan& out, std::string& buf,
                std::vector<Pid>* gone);
// The system files: meminfo, loadavg and the three pressure files.
void read_system(ProcSource& source, RawScan& out);

}  // namespace freezr::proc

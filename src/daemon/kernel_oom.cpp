#include "daemon/kernel_oom.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

namespace freezr::daemon {

KernelOomWatch::~KernelOomWatch() {
  if (fd_ >= 0) ::close(fd_);
}

std::string KernelOomWatch::start(const std::string& path, proc::ProcSource& source) {
  source_ = &source;
  if (auto v = source.read_system_file("vmstat")) counted_ = proc::parse_vmstat_oom_kills(*v);
  if (path.empty()) return "no kernel log configured";
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) return path + ": " + std::strerror(errno);
  ::lseek(fd_, 0, SEEK_END);  // /dev/kmsg: after the last record; a file: at its end
  return "";
}

void KernelOomWatch::read_log(std::vector<KernelKill>& out) {
  char buf[8192];  // /dev/kmsg gives one record per read and refuses a buffer too small
  for (int reads = 0; reads < 4096; ++reads) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EPIPE) continue;  // records overwritten before they were read
    if (n <= 0) break;
    partial_.append(buf, static_cast<std::size_t>(n));
    if (partial_.size() > (1U << 20)) partial_.clear();  // no newline in a megabyte: not a log
  }
  std::size_t start = 0;
  for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n', start)) {
    const std::string_view line(partial_.data() + start, nl - start);
    start = nl + 1;
    if (auto k = proc::parse_kmsg_oom_kill(line)) out.push_back({std::move(*k), false});
  }
  partial_.erase(0, start);
}

void KernelOomWatch::guess(const engine::Snapshot& snap, std::uint64_t count,
                           std::vector<KernelKill>& out) {
  std::unordered_set<ProcessId, ProcessIdHash> now;
  now.reserve(snap.processes.size());
  for (const auto& p : snap.processes) now.insert(p.id);
  std::vector<const Seen*> gone;
  for (const auto& s : previous_) {
    if (now.count(s.id) == 0) gone.push_back(&s);
  }
  std::sort(gone.begin(), gone.end(), [](auto a, auto b) { return a->rss > b->rss; });
  for (std::uint64_t i = 0; i < count; ++i) {
    KernelKill k;
    k.guessed = true;
    if (i < gone.size()) {
      k.kill.pid = gone[i]->id.pid;
      k.kill.comm = gone[i]->comm;
      k.kill.anon_rss_kb = gone[i]->rss / 1024;
    }
    out.push_back(std::move(k));
  }
}

std::vector<KernelKill> KernelOomWatch::poll(const engine::Snapshot& snap) {
  std::vector<KernelKill> out;
  std::optional<std::uint64_t> count;
  if (source_ != nullptr) {
    if (auto v = source_->read_system_file("vmstat")) count = proc::parse_vmstat_oom_kills(*v);
  }
  if (fd_ >= 0) {
    read_log(out);
  } else if (count && counted_ && *count > *counted_) {
    guess(snap, *count - *counted_, out);
  }
  if (count) counted_ = count;
  if (fd_ < 0 && counted_) {
    previous_.clear();
    for (const auto& p : snap.processes) {
      if (!p.kernel_thread) previous_.push_back({p.id, p.comm, p.rss_bytes});
    }
  }
  kills_ += out.size();
  return out;
}

}  // namespace freezr::daemon

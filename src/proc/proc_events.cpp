#include "proc/proc_events.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <cstring>

namespace freezr::proc {

namespace {
// The fixed part of struct proc_event: what, cpu, timestamp_ns.
constexpr std::size_t kEventHeader = offsetof(proc_event, event_data);
// The event codes are kernel ABI (linux/cn_proc.h); spelled out here because the headers
// have moved their enum between versions.
constexpr std::uint32_t kFork = 0x00000001;
constexpr std::uint32_t kExec = 0x00000002;
constexpr std::uint32_t kComm = 0x00000200;
constexpr std::uint32_t kExit = 0x80000000;
using ForkData = decltype(proc_event::event_data.fork);
using ExecData = decltype(proc_event::event_data.exec);
using CommData = decltype(proc_event::event_data.comm);
using ExitData = decltype(proc_event::event_data.exit);

template <typename T>
T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
}  // namespace

std::size_t parse_proc_events(std::span<const std::uint8_t> datagram, std::vector<ProcEvent>& out) {
  std::size_t skipped = 0;
  std::size_t off = 0;
  while (off + sizeof(nlmsghdr) <= datagram.size()) {
    const auto h = load<nlmsghdr>(datagram.data() + off);
    if (h.nlmsg_len < sizeof(nlmsghdr) || off + h.nlmsg_len > datagram.size()) {
      ++skipped;
      break;
    }
    const std::uint8_t* body = datagram.data() + off + NLMSG_HDRLEN;
    const std::size_t body_len = h.nlmsg_len - NLMSG_HDRLEN;
    off += NLMSG_ALIGN(h.nlmsg_len);
    if (h.nlmsg_type == NLMSG_NOOP || h.nlmsg_type == NLMSG_ERROR) continue;
    if (body_len < sizeof(cn_msg)) {
      ++skipped;
      continue;
    }
    const auto cn = load<cn_msg>(body);
    if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC) continue;
    if (cn.len > body_len - sizeof(cn_msg) || cn.len < kEventHeader) {
      ++skipped;
      continue;
    }
    const std::uint8_t* ev = body + sizeof(cn_msg);
    const auto what = load<std::uint32_t>(ev + offsetof(proc_event, what));
    const auto ts = load<std::uint64_t>(ev + offsetof(proc_event, timestamp_ns));
    const std::uint8_t* data = ev + kEventHeader;
    const std::size_t data_len = cn.len - kEventHeader;
    ProcEvent e;
    e.timestamp_ns = ts;
    switch (what) {
      case kFork: {
        if (data_len < sizeof(ForkData)) { ++skipped; continue; }
        const auto f = load<ForkData>(data);
        e.kind = ProcEvent::Kind::kFork;
        e.pid = static_cast<Pid>(f.child_pid);
        e.tgid = static_cast<Pid>(f.child_tgid);
        e.parent_tgid = static_cast<Pid>(f.parent_tgid);
        break;
      }
      case kExec: {
        if (data_len < sizeof(ExecData)) { ++skipped; continue; }
        const auto x = load<ExecData>(data);
        e.kind = ProcEvent::Kind::kExec;
        e.pid = static_cast<Pid>(x.process_pid);
        e.tgid = static_cast<Pid>(x.process_tgid);
        break;
      }
      case kComm: {
        if (data_len < sizeof(CommData)) { ++skipped; continue; }
        const auto c = load<CommData>(data);
        e.kind = ProcEvent::Kind::kComm;
        e.pid = static_cast<Pid>(c.process_pid);
        e.tgid = static_cast<Pid>(c.process_tgid);
        e.comm.assign(c.comm, strnlen(c.comm, sizeof c.comm));
        break;
      }
      case kExit: {
        if (data_len < sizeof(ExitData)) { ++skipped; continue; }
        const auto x = load<ExitData>(data);
        e.kind = ProcEvent::Kind::kExit;
        e.pid = static_cast<Pid>(x.process_pid);
        e.tgid = static_cast<Pid>(x.process_tgid);
        break;
      }
      default:
        continue;  // the listen acknowledgement, uid/gid/sid/ptrace/coredump changes
    }
    out.push_back(std::move(e));
  }
  return skipped;
}

}  // namespace freezr::proc

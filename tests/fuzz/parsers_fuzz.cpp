// libFuzzer target for every /proc parser and the process connector's message parser: the
// first byte picks the parser, the rest is its input. Run by tests/fuzz/run.sh (clang,
// -fsanitize=fuzzer,address,undefined).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "proc/parse.h"
#include "proc/proc_events.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  using namespace freezr::proc;
  switch (data[0] % 13) {
    case 0: {
      auto r = parse_stat(text);
      if (r && r->comm.size() > text.size()) __builtin_trap();
      break;
    }
    case 1:
      (void)parse_status_uid(text);
      break;
    case 2:
      (void)join_cmdline(text);
      break;
    case 3: {
      auto r = parse_meminfo(text);
      if (r && r->available_kb > r->total_kb) __builtin_trap();
      break;
    }
    case 4:
      (void)parse_loadavg(text);
      break;
    case 5:
      (void)parse_pressure(text);
      break;
    case 6:
      (void)parse_mountinfo(text);
      break;
    case 7:
      (void)parse_cgroup_path(text, size % 2 ? "" : "cpu");
      break;
    case 8:
      (void)parse_io(text);
      break;
    case 9: {
      auto r = parse_smaps_rollup(text);
      if (r && r->private_bytes > r->rss) __builtin_trap();
      break;
    }
    case 10: {
      auto r = parse_kmsg_oom_kill(text);
      if (r && (r->pid <= 0 || r->comm.size() > text.size())) __builtin_trap();
      break;
    }
    case 11:
      (void)parse_vmstat_oom_kills(text);
      break;
    default: {
      std::vector<ProcEvent> events;
      (void)parse_proc_events({data + 1, size - 1}, events);
      for (const auto& e : events) {
        if (e.comm.size() > 16) __builtin_trap();
      }
      break;
    }
  }
  return 0;
}

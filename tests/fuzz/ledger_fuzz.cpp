// libFuzzer target for the ledger reader: whatever a damaged or tampered ledger file holds,
// parse_ledger never throws or crashes, what it keeps survives a rewrite unchanged, and
// validate() judges every entry without throwing. Run by tests/fuzz/run.sh, seeded with the
// hostile ledger corpus (tests/fixtures/hostile/ledger).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "act/ledger_entries.h"
#include "store/ledger.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const freezr::act::Cgroups cgroups({"/sys/fs/cgroup", "/sys/fs/cgroup/cpu"}, "freezr",
                                            "0badcafe");
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto ledger = freezr::store::parse_ledger(text);
  for (const auto& e : ledger.entries) {
    (void)freezr::act::validate(e, cgroups);
    (void)freezr::act::reniced_to(e);
    (void)freezr::act::group_of(e);
  }
  const auto again = freezr::store::parse_ledger(freezr::store::render_ledger(ledger));
  if (again.entries.size() != ledger.entries.size() || !again.problems.empty() ||
      again.next_id != ledger.next_id) {
    __builtin_trap();
  }
  for (std::size_t i = 0; i < again.entries.size(); ++i) {
    const auto &a = again.entries[i], &b = ledger.entries[i];
    if (a.id != b.id || a.process != b.process || a.kind != b.kind || a.data != b.data) {
      __builtin_trap();
    }
  }
  return 0;
}

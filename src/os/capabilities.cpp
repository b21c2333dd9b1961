#include "os/capabilities.h"

#include <cap-ng.h>
#include <linux/capability.h>

#include <optional>

namespace freezr::os {

const std::vector<std::string>& needed_capabilities() {
  static const std::vector<std::string> kNames = {"CAP_KILL",         "CAP_SYS_NICE",
                                                  "CAP_SYS_PTRACE",   "CAP_DAC_READ_SEARCH",
                                                  "CAP_SYS_RESOURCE", "CAP_IPC_LOCK"};
  return kNames;
}

namespace {
std::optional<unsigned> capability_number(const std::string& name) {
  const int cap = capng_name_to_capability(name.substr(4).c_str());  // without "CAP_"
  if (cap < 0) return std::nullopt;
  return static_cast<unsigned>(cap);
}
}  // namespace

Result<CapabilitySet> drop_capabilities(const std::vector<std::string>& extra) {
  auto wanted = needed_capabilities();
  wanted.insert(wanted.end(), extra.begin(), extra.end());
  if (capng_get_caps_process() != 0) {
    return error_of(ErrorKind::kIo, "cannot read this process's capabilities");
  }
  CapabilitySet out;
  std::vector<unsigned> keep;
  for (const auto& name : wanted) {
    const auto cap = capability_number(name);
    if (!cap) return error_of(ErrorKind::kConfig, "unknown capability " + name);
    if (capng_have_capability(CAPNG_PERMITTED, *cap) != 0) {
      keep.push_back(*cap);
    } else {
      out.unavailable.push_back(name);
    }
  }
  out.bounding_set = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) != 0;
  capng_clear(out.bounding_set ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS);
  const auto sets = static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED |
                                              (out.bounding_set ? CAPNG_BOUNDING_SET : 0));
  for (const unsigned cap : keep) {
    if (capng_update(CAPNG_ADD, sets, cap) != 0) {
      return error_of(ErrorKind::kIo, "cannot keep capability " + std::to_string(cap));
    }
  }
  if (capng_apply(out.bounding_set ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS) != 0) {
    return error_of(ErrorKind::kPermission, "the kernel refused the reduced capability sets");
  }
  if (capng_get_caps_process() != 0) {
    return error_of(ErrorKind::kIo, "cannot read the capabilities back");
  }
  for (const auto& name : wanted) {
    if (capng_have_capability(CAPNG_EFFECTIVE, *capability_number(name)) != 0) {
      out.kept.push_back(name);
    }
  }
  return out;
}

}  // namespace freezr::os

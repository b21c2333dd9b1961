#include "os/capabilities.h"

#include <cap-ng.h>
#include <linux/capability.h>

namespace freezr::os {

const std::vector<std::string>& needed_capabilities() {
  static const std::vector<std::string> kNames = {"CAP_KILL",         "CAP_SYS_NICE",
                                                  "CAP_SYS_PTRACE",   "CAP_DAC_READ_SEARCH",
                                                  "CAP_SYS_RESOURCE", "CAP_IPC_LOCK"};
  return kNames;
}

std::string drop_capability(const std::string& name) {
  if (capng_get_caps_process() != 0) return "cannot read this process's capabilities";
  const int cap = capng_name_to_capability(name.substr(4).c_str());
  if (cap < 0) return "unknown capability " + name;
  if (capng_have_capability(CAPNG_PERMITTED, static_cast<unsigned>(cap)) == 0) return {};
  if (capng_update(CAPNG_DROP,
                   static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE),
                   static_cast<unsigned>(cap)) != 0 ||
      capng_apply(CAPNG_SELECT_CAPS) != 0) {
    return "cannot drop " + name;
  }
  return {};
}

std::string drop_capabilities(std::vector<std::string>* unavailable) {
  if (capng_get_caps_process() != 0) return "cannot read this process's capabilities";
  std::vector<unsigned> keep;
  for (const auto& name : needed_capabilities()) {
    const int cap = capng_name_to_capability(name.substr(4).c_str());  // without "CAP_"
    if (cap < 0) return "unknown capability " + name;
    if (capng_have_capability(CAPNG_PERMITTED, static_cast<unsigned>(cap)) != 0) {
      keep.push_back(static_cast<unsigned>(cap));
    } else if (unavailable != nullptr) {
      unavailable->push_back(name);
    }
  }
  capng_clear(CAPNG_SELECT_BOTH);
  for (const unsigned cap : keep) {
    if (capng_update(
            CAPNG_ADD,
            static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET),
            cap) != 0) {
      return "cannot keep capability " + std::to_string(cap);
    }
  }
  if (capng_apply(CAPNG_SELECT_BOTH) != 0) return "capng_apply failed";
  return {};
}

}  // namespace freezr::os

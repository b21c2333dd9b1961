// Classifier: which rules each process falls under. Results are cached per process identity;
// an exec (seen as a changed comm) drops the cache entry.
#pragma once

#include <unordered_map>
#include <vector>

#include "engine/rule.h"
#include "engine/snapshot.h"
#include "proc/info_cache.h"

namespace freezr::engine {

// Does process s match m? Reads command line, executable and uid through info only when
// the cheaper criteria already hold.
bool matches(const Match& m, const ProcessSample& s, proc::InfoSource& info);

struct Classification {
  // For each rule (same order as the rule list), indexes into Snapshot::processes.
  std::vector<std::vector<std::size_t>> members;
  // For each process, the first rule it falls under, or -1.
  std::vector<int> first_rule;
};

class Classifier {
 public:
  explicit Classifier(const std::vector<Rule>* rules) : rules_(rules) {}

  // rules must outlive the classifier; call reset() after they change.
  void reset(const std::vector<Rule>* rules);
  Classification classify(const Snapshot& snap, proc::InfoSource& info);

 private:
  struct Cached {
    std::string comm;
    std::vector<bool> hits;
  };
  const std::vector<Rule>* rules_;
  std::unordered_map<ProcessId, Cached, ProcessIdHash> cache_;
};

}  // namespace freezr::engine

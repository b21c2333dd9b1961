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

// Index of the first category s falls in, or -1.
int categorize(const std::vector<Category>& categories, const ProcessSample& s,
               proc::InfoSource& info);

struct Classification {
  // For each rule (same order as the rule list), indexes into Snapshot::processes.
  std::vector<std::vector<std::size_t>> members;
  // For each process, the first rule it falls under, or -1.
  std::vector<int> first_rule;
  // For each process, its category (index into the classifier's categories), or -1.
  std::vector<int> category;
  // For rules summed per unit or per user (same order as the rule list; empty for others):
  // each member's unit, or "uid N", parallel to members; "" where it is not known.
  std::vector<std::vector<std::string>> places;
};

// The unit or user a process is summed under by a rule of that aggregate ("" if not known).
std::string place_key(Aggregate a, const ProcessSample& s, proc::InfoSource& info);

// Fills cls.places from cls.members: for the rules summed per unit or per user, each member's
// unit or user.
void add_places(Classification& cls, const std::vector<Rule>& rules, const Snapshot& snap,
                proc::InfoSource& info);

class Classifier {
 public:
  explicit Classifier(const std::vector<Rule>* rules,
                      const std::vector<Category>* categories = nullptr)
      : rules_(rules), categories_(categories) {}

  // rules and categories must outlive the classifier; call reset() after they change.
  void reset(const std::vector<Rule>* rules, const std::vector<Category>* categories = nullptr);
  Classification classify(const Snapshot& snap, proc::InfoSource& info);
  // What one process falls under: the rules it matches (by rule index) and its category.
  struct Verdicts {
    std::vector<bool> hits;
    int category = -1;
  };
  // p's verdicts, from the cache or matched now (a changed comm is an exec: matched afresh).
  const Verdicts& lookup(const ProcessSample& p, proc::InfoSource& info);
  // After a pass over every process: entries not looked up since the last sweep are dropped
  // when they outnumber the living processes.
  void sweep(std::size_t living);
  // Drops what is known of id (after an exec, whatever its name): it is matched afresh.
  void forget(const ProcessId& id) { cache_.erase(id); }
  [[nodiscard]] const std::vector<Category>* categories() const { return categories_; }
  [[nodiscard]] const std::vector<Rule>& rules() const { return *rules_; }

 private:
  struct Cached {
    std::string comm;
    Verdicts verdicts;
    unsigned seen = 0;  // the sweep round that last looked it up
  };
  const std::vector<Rule>* rules_;
  const std::vector<Category>* categories_;
  std::unordered_map<ProcessId, Cached, ProcessIdHash> cache_;
  unsigned round_ = 0;
};

}  // namespace freezr::engine

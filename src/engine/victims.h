// Choosing who dies under memory pressure: the configured priority list first, then by
// memory, then by oom_score; never a protected process or one with oom_score_adj = -1000.
// Pure.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/classifier.h"
#include "engine/protection.h"
#include "engine/rule.h"
#include "engine/snapshot.h"

namespace freezr::engine {

// An entry of kill_order or avoid: a rule name or a process name, or a regular expression
// between slashes searched in the process name ("/^(chrome|brave)$/"), or a glob of systemd
// units or slices ("user.slice", "app-*.scope": the processes living there), optionally with
// a minimum resident size ("nvim>1024": nvim processes above 1024 MiB).
struct NamePattern {
  enum class Place { kNone, kUnit, kSlice };
  std::string name;  // as written, slashes included for a regular expression
  std::optional<double> min_rss_mb;
  std::optional<Regex> regex;
  Place place = Place::kNone;  // by its suffix: a unit's or a slice's name
  bool operator==(const NamePattern& o) const {
    return name == o.name && min_rss_mb == o.min_rss_mb;
  }
};
// Parses "name", "/regex/", and either with ">MiB"; nullopt when malformed.
std::optional<NamePattern> parse_name_pattern(const std::string& text);

struct VictimPolicy {
  std::vector<NamePattern> kill_order;  // first killed first
  std::vector<NamePattern> avoid;       // killed last
  std::optional<Match> candidates;      // when set, only processes matching it are candidates
  // What "largest" means: the resident set, or from smaps_rollup (read for candidates only)
  // the proportional or unique set, or resident plus swapped out.
  MemoryMetric memory_metric = MemoryMetric::kRss;
};

struct OomFacts {
  int oom_score = 0;
  int oom_score_adj = 0;
  std::optional<MemoryDetail> memory;  // when the victim policy's metric needs it
};

struct RankedVictim {
  std::size_t index = 0;  // into Snapshot::processes
  int tier = 0;           // kill_order position, then unlisted, then avoid
  std::string reason;
};

struct VictimOrder {
  std::vector<RankedVictim> ranked;                           // best victim first
  std::vector<std::pair<std::size_t, std::string>> excluded;  // protected ones and why
};

// facts gives oom_score/oom_score_adj for a PID (called only for candidates).
VictimOrder rank_victims(const Snapshot& snap, const Classification& cls,
                         const std::vector<Rule>& rules, const VictimPolicy& policy,
                         const Protection& protection, proc::InfoSource& info,
                         const std::function<OomFacts(Pid)>& facts);

}  // namespace freezr::engine

// Thermal: [[thermal]] sections. A sensor above its temperature for N scans has the hottest
// processes (by CPU) of chosen rules or categories throttled, reniced or frozen; once it is
// back under its cool temperature for N scans, the throttles and renices are undone. Pure: it
// reads temperatures and a snapshot and returns decisions for the daemon's one path.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/classifier.h"
#include "engine/policy.h"
#include "engine/protection.h"
#include "engine/rule.h"

namespace freezr::engine {

struct ThermalSpec {
  std::string name;
  std::string sensor;  // a thermal zone's type, a hwmon chip's name or a sensor's label
  double above = 90;   // °C, strictly above counts
  double below = 85;   // °C, at or below counts as cool
  int violations = 3;  // hot (or cool) scans in a row
  Action action;       // log, renice, throttle or freeze
  std::vector<std::string> rules, categories;  // whose processes, as written
  std::vector<std::size_t> rule_indexes, category_indexes;
  int hottest = 1;  // how many of their processes, hottest first
  bool operator==(const ThermalSpec&) const = default;
};

// The name a thermal section's decisions carry as their rule: "thermal:NAME".
std::string thermal_rule_name(const ThermalSpec& s);

class ThermalResponder {
 public:
  // specs must outlive the responder; reset() after they change (state of unchanged sections
  // is kept, so what a section holds is still released).
  explicit ThermalResponder(const std::vector<ThermalSpec>* specs) : specs_(specs) { reset(specs); }
  // Returns the releases of the sections that are gone or changed.
  std::vector<Decision> reset(const std::vector<ThermalSpec>* specs);

  // temps[i]: the temperature of specs[i]'s sensor now, nullopt when it cannot be read (then
  // nothing changes for that section).
  std::vector<Decision> evaluate(const Snapshot& snap, const Classification& cls,
                                 const std::vector<std::optional<double>>& temps,
                                 const Protection& protection, Seconds now);

  // Whether a section is hot now (acted and not yet cooled), for displays.
  [[nodiscard]] bool hot(std::size_t i) const { return states_[i].hot; }

 private:
  struct State {
    ThermalSpec spec;
    int hot_scans = 0, cool_scans = 0;
    bool hot = false;
    std::optional<Seconds> frozen_until;  // a freeze in force: no new one before it ends
    std::set<ProcessId> held;             // processes throttled or reniced by it
  };
  void act(State& st, const Snapshot& snap, const Classification& cls, double temp,
           const Protection& protection, Seconds now, std::vector<Decision>& out);
  static std::vector<Decision> release(const State& st, const std::string& why);

  const std::vector<ThermalSpec>* specs_;
  std::vector<State> states_;
};

}  // namespace freezr::engine

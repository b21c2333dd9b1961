// Builds the State that readers see after each scan.
#pragma once

#include <memory>

#include "engine/policy.h"
#include "scan/scanner.h"
#include "serve/state.h"
#include "store/history.h"
#include "store/ledger.h"

namespace freezr::report {

struct PublishInput {
  const scan::ScanResult* result = nullptr;
  const std::vector<engine::Rule>* rules = nullptr;
  const std::vector<engine::Category>* categories = nullptr;
  const engine::Policy* policy = nullptr;
  proc::InfoSource* info = nullptr;  // where processes live (their placement), when given
  // Whether the state lists every process (else list_processes can add them later).
  bool list = true;
  std::vector<store::LedgerEntry> frozen;
  // The daemon's own facts (times, counters, status, actions, predictions), filled by the
  // daemon; build_state adds the rules, processes, frozen ones and system figures.
  serve::State state;
};

std::shared_ptr<const serve::State> build_state(PublishInput in);

// Lists the processes of result in s (a state built without them), their rule and category by
// name, their streaks from policy.
void list_processes(serve::State& s, const scan::ScanResult& result,
                    const std::vector<engine::Rule>& rules,
                    const std::vector<engine::Category>* categories, const engine::Policy& policy,
                    proc::InfoSource* info);

// The compact message pushed to WebSocket clients after each scan: health, pressure level,
// rules (as `GET /api/v1/rules` gives them), the busiest processes, the new events, the frozen
// processes.
std::string live_update(const serve::State& s, const std::vector<store::Event>& feed);

}  // namespace freezr::report

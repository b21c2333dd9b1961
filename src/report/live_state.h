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
  nlohmann::json status;
  serve::ActionCounts actions;
  std::vector<store::LedgerEntry> frozen;
  double now_wall = 0;
  double started_wall = 0;
  bool dry_run = false;
  double interval = 0;
  std::uint64_t scans = 0;
  double last_scan_seconds = 0;
  double scan_seconds_total = 0;
  double self_cpu_seconds = 0;
  std::uint64_t self_rss_bytes = 0;
  bool control = false;
  nlohmann::json predictions;
};

std::shared_ptr<const serve::State> build_state(PublishInput in);

// The compact message pushed to WebSocket clients after each scan: health, pressure level,
// rules, the busiest processes, the new events, the frozen processes.
std::string live_update(const serve::State& s, const std::vector<store::Event>& feed);

}  // namespace freezr::report

// The numbered schema migrations. Migration N (1-based) takes user_version N-1 to N. Never
// edit a released migration; add a new one.
#pragma once

#include <string>
#include <vector>

namespace freezr::store {

inline const std::vector<std::string>& migrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: the ledger of reversible actions in force (freezes, renices, throttles).
      "CREATE TABLE ledger ("
      "  id INTEGER PRIMARY KEY,"
      "  pid INTEGER NOT NULL,"
      "  start_time INTEGER NOT NULL,"
      "  kind TEXT NOT NULL,"
      "  rule TEXT NOT NULL,"
      "  data TEXT NOT NULL,"
      "  applied_at REAL NOT NULL)",
  };
  return kMigrations;
}

}  // namespace freezr::store

// The readers of the configuration's parts, shared by the files of the loader. Each throws
// ConfigError with the place of the problem.
#pragma once

#include <array>
#include <string>

#include "config/config.h"
#include "config/table_reader.h"

namespace freezr::config {

// The parameters of the actions (each belongs to one action).
inline constexpr std::array<const char*, 9> kActionParameterKeys = {
    "nice",      "ionice",   "sched",   "cpus",   "oom_score_adj",
    "cpu_limit", "duration", "service", "command"};
// The keys of a step's conditions: a step (or a rule without steps) needs one of them.
inline constexpr std::array<const char*, 7> kConditionKeys = {
    "cpu_percent",  "memory_mb",   "io_read_mbps",   "io_write_mbps",
    "cpu_pressure", "io_pressure", "memory_pressure"};
// What a step has besides its conditions and the parameters of its action.
inline constexpr std::array<const char*, 4> kStepOwnKeys = {"predict_minutes", "violations",
                                                            "cooldown", "action"};

// "kesl" -> "kesl.service"; names with a suffix are kept.
std::string unit_name(std::string s);
// `memory_metric`: "rss", "pss", "uss" or "swap"; nullopt when absent.
std::optional<engine::MemoryMetric> read_memory_metric(TableReader& t);
// The name patterns of a match or a category: comm (at most 15 characters), exe, cmdline.
void read_patterns(TableReader& t, engine::Match& m);
// Match criteria; `category` names are resolved against categories.
void read_match(TableReader t, engine::Match& m, const std::vector<engine::Category>& categories);
// `action` and its parameters, from a rule, a step or a pressure level.
engine::Action read_action(TableReader& t);
engine::Rule read_rule(TableReader t, const std::vector<engine::Category>& categories);
void read_pressure(TableReader t, PressureSettings& p,
                   const std::vector<engine::Category>& categories);
// [[thermal]] sections, after the rules and categories they name.
void read_thermal(TableReader& top, Config& c);
// [[category]] tables first, then the shipped library's categories of other names.
void read_categories(TableReader& top, Config& c);
// The file a node came from (a conf.d piece), else source.
std::string file_of(const toml::source_region& at, const std::string& source);
// Parses TOML text; source names it in errors (and in each node's place).
toml::table parse_table(std::string_view text, const std::string& source);

// The texts of a configuration: the main file (or the text given) and its conf.d pieces.
struct Document {
  struct Piece {
    std::string source, text;
  };
  std::vector<Piece> pieces;
  // Parsed afresh and merged in order, so that every node knows its file, line and column.
  [[nodiscard]] toml::table root() const;
};

// The whole configuration from its merged TOML (profiles not applied).
Config read_config(const toml::table& root, const std::string& source);
// [profile.NAME] tables: what each is and when it is chosen (its sections are read when it is
// applied).
void read_profiles(TableReader& top, Config& c);
// Applies each profile of c once, so that a profile's mistakes are found at load time, with
// their place; checks [monitor] profile.
void check_profiles(const Config& c, const Document& doc);
// The shipped library alone, and its version.
std::vector<engine::Category> shipped_categories(int* version = nullptr);

}  // namespace freezr::config

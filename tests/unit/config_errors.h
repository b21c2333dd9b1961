// Expecting a configuration to be rejected with a given message.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "config/config.h"

namespace freezr::testing {

// Expects parse_config(text) to throw a ConfigError whose message contains `what`.
inline void expect_config_error(const std::string& text, const std::string& what) {
  try {
    config::parse_config(text, "test.toml");
    ADD_FAILURE() << "accepted: " << text;
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

}  // namespace freezr::testing

#include <gtest/gtest.h>

#include "config/config.h"
#include "config_errors.h"
#include "engine/classifier.h"
#include "engine_fixtures.h"

namespace freezr {
namespace {

using testing::expect_config_error;
using testing::FakeInfo;
using testing::proc;

const std::vector<engine::Category>& library() {
  static const auto kConfig = config::parse_config("", "test.toml");
  return kConfig.categories;
}

std::string category_of(const engine::ProcessSample& p, FakeInfo& info,
                        const std::vector<engine::Category>& cats = library()) {
  const int c = engine::categorize(cats, p, info);
  return c < 0 ? "-" : cats[static_cast<std::size_t>(c)].name;
}

TEST(CategoryLibrary, IsVersionedAndCoversTheCommonKinds) {
  const auto c = config::parse_config("", "test.toml");
  EXPECT_GE(c.categories_version, 1);
  std::set<std::string> names;
  for (const auto& cat : c.categories) {
    names.insert(cat.name);
    EXPECT_FALSE(cat.description.empty()) << cat.name;
    EXPECT_FALSE(cat.any.empty()) << cat.name;
  }
  for (const char* want : {"browser", "ide", "language-server", "build", "antivirus", "messenger",
                           "package-manager", "system-service"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
}

TEST(CategoryLibrary, ProcessesFallInTheirCategory) {
  FakeInfo info;
  info.facts[3].exe = "/opt/google/chrome/chrome";
  info.facts[4].cmdline = "/usr/bin/node /usr/lib/node_modules/typescript/lib/tsserver.js";
  info.facts[5].cmdline = "/usr/bin/node /srv/app/server.js";
  EXPECT_EQ(category_of(proc(1, "firefox-esr", 0, 0), info), "browser");
  EXPECT_EQ(category_of(proc(2, "kesl", 0, 0), info), "antivirus");
  EXPECT_EQ(category_of(proc(3, "chrome_crashpad", 0, 0), info), "browser") << "by executable";
  EXPECT_EQ(category_of(proc(4, "node", 0, 0), info), "language-server") << "by command line";
  EXPECT_EQ(category_of(proc(5, "node", 0, 0), info), "runtime");
  EXPECT_EQ(category_of(proc(6, "cc1plus", 0, 0), info), "build");
  EXPECT_EQ(category_of(proc(7, "fz-unknown-xyz", 0, 0), info), "-");
}

TEST(CategoryConfig, RulesMatchByCategory) {
  const auto c = config::parse_config(R"(
[[rule]]
name = "browsers"
match = { category = "browser" }
memory_mb = 4000
action = "freeze"
[[rule]]
name = "noisy"
match = { category = ["build", "indexer"], user = ["root"] }
cpu_percent = 90
)",
                                      "test.toml");
  ASSERT_EQ(c.rules.size(), 2U);
  EXPECT_EQ(c.rules[0].match.category, std::vector<std::string>{"browser"});
  FakeInfo info;
  info.facts[2].uid = 0;
  info.facts[3].uid = 1000;
  EXPECT_TRUE(engine::matches(c.rules[0].match, proc(1, "firefox", 0, 0), info));
  EXPECT_FALSE(engine::matches(c.rules[0].match, proc(1, "kesl", 0, 0), info));
  EXPECT_TRUE(engine::matches(c.rules[1].match, proc(2, "updatedb", 0, 0), info));
  EXPECT_FALSE(engine::matches(c.rules[1].match, proc(3, "updatedb", 0, 0), info)) << "user";
  // The rendered configuration keeps the category and parses again.
  const auto again = config::parse_config(config::render_config(c), "rendered.toml");
  EXPECT_EQ(again.rules[1].match.category, (std::vector<std::string>{"build", "indexer"}));
}

TEST(CategoryConfig, OwnCategoriesComeFirstAndReplaceShippedOnes) {
  const auto c = config::parse_config(R"(
[[category]]
name = "browser"
description = "Only our kiosk browser"
comm = ["kiosk"]
[[category]]
name = "ci-runner"
description = "CI jobs"
cmdline = "gitlab-runner|actions-runner"
[[rule]]
name = "ci"
match = { category = "ci-runner" }
cpu_percent = 150
)",
                                      "test.toml");
  ASSERT_GE(c.categories.size(), 2U);
  EXPECT_EQ(c.categories[0].name, "browser");
  EXPECT_EQ(c.categories[1].name, "ci-runner");
  EXPECT_EQ(std::count_if(c.categories.begin(), c.categories.end(),
                          [](const auto& k) { return k.name == "browser"; }),
            1);
  FakeInfo info;
  info.facts[9].cmdline = "/usr/bin/gitlab-runner run";
  EXPECT_EQ(category_of(proc(1, "firefox", 0, 0), info, c.categories), "-");
  EXPECT_EQ(category_of(proc(2, "kiosk", 0, 0), info, c.categories), "browser");
  EXPECT_EQ(category_of(proc(9, "gitlab-runner", 0, 0), info, c.categories), "ci-runner");
  EXPECT_TRUE(engine::matches(c.rules[0].match, proc(9, "gitlab-runner", 0, 0), info));
}

TEST(CategoryConfig, Errors) {
  expect_config_error(
      "[[rule]]\nname = \"x\"\nmatch = { category = \"browsr\" }\n"
      "cpu_percent = 5\n",
      "unknown category 'browsr' (known: antivirus");
  expect_config_error("[[category]]\nname = \"x\"\n", "give comm, exe or cmdline");
  expect_config_error(
      "[[category]]\nname = \"x\"\ncomm = [\"a\"]\n[[category]]\nname = \"x\"\n"
      "comm = [\"b\"]\n",
      "duplicate name 'x'");
  expect_config_error("[[category]]\nname = \"x\"\ncmdline = \"(\"\n",
                      "invalid regular expression");
  expect_config_error("[[category]]\nname = \"x\"\ncomm = [\"a\"]\ncolour = 1\n", "colour");
  expect_config_error("[[category]]\nname = \"x\"\ncomm = [\"sixteen-chars-xx\"]\n",
                      "longer than 15 characters");
}

TEST(CategoryClassifier, EachProcessGetsItsCategoryOnce) {
  std::vector<engine::Rule> rules;
  engine::Classifier cls(&rules, &library());
  FakeInfo info;
  const auto s = testing::snap(1, {proc(1, "firefox", 0, 0), proc(2, "fz-none", 0, 0)});
  const auto a = cls.classify(s, info);
  ASSERT_EQ(a.category.size(), 2U);
  EXPECT_EQ(library()[static_cast<std::size_t>(a.category[0])].name, "browser");
  EXPECT_EQ(a.category[1], -1);
  const int reads = info.reads;
  const auto b = cls.classify(s, info);
  EXPECT_EQ(info.reads, reads) << "cached per process";
  EXPECT_EQ(b.category, a.category);
}

}  // namespace
}  // namespace freezr

#include "engine/classifier.h"

#include <gtest/gtest.h>

#include "engine_fixtures.h"

namespace freezr::engine {
namespace {

using testing::FakeInfo;
using testing::proc;
using testing::snap;

Rule rule(const std::string& name, Match m) {
  Rule r;
  r.name = name;
  r.match = std::move(m);
  Step st;
  st.cpu_percent = 50;
  r.steps = {st};
  return r;
}

TEST(Matches, CommIsExact) {
  FakeInfo info;
  Match m;
  m.comm = {"node"};
  EXPECT_TRUE(matches(m, proc(5, "node", 0, 0), info));
  EXPECT_FALSE(matches(m, proc(5, "nodejs", 0, 0), info));
  EXPECT_FALSE(matches(m, proc(5, "nod", 0, 0), info));
  EXPECT_EQ(info.reads, 0);  // comm alone needs no extra reads
}

TEST(Matches, ExeByBasenameOrAbsolutePath) {
  FakeInfo info;
  info.facts[5].exe = "/usr/bin/node";
  info.facts[6].exe = "/opt/other/node";
  Match base;
  base.exe = {"node"};
  EXPECT_TRUE(matches(base, proc(5, "x", 0, 0), info));
  EXPECT_TRUE(matches(base, proc(6, "x", 0, 0), info));
  Match full;
  full.exe = {"/usr/bin/node"};
  EXPECT_TRUE(matches(full, proc(5, "x", 0, 0), info));
  EXPECT_FALSE(matches(full, proc(6, "x", 0, 0), info));
  EXPECT_FALSE(matches(full, proc(7, "x", 0, 0), info));  // exe unknown
}

TEST(Matches, CmdlineRegexAndUserAreAnded) {
  FakeInfo info;
  info.facts[5] = {"node /srv/app/server.js", "/usr/bin/node", 1000};
  info.facts[6] = {"node /srv/other.js", "/usr/bin/node", 1000};
  info.facts[7] = {"node /srv/app/server.js", "/usr/bin/node", 0};
  Match m;
  m.cmdline = Regex::compile("app/server\\.js$", nullptr);
  m.uids = {1000};
  EXPECT_TRUE(matches(m, proc(5, "node", 0, 0), info));
  EXPECT_FALSE(matches(m, proc(6, "node", 0, 0), info));
  EXPECT_FALSE(matches(m, proc(7, "node", 0, 0), info));
}

TEST(Matches, CheapCriteriaFirst) {
  FakeInfo info;
  Match m;
  m.comm = {"kesl"};
  m.cmdline = Regex::compile("x", nullptr);
  EXPECT_FALSE(matches(m, proc(5, "bash", 0, 0), info));
  EXPECT_EQ(info.reads, 0);
}

TEST(Regex, RejectsBadPatternsAndSurvivesLongInput) {
  std::string err;
  EXPECT_FALSE(Regex::compile("(unclosed", &err).has_value());
  EXPECT_FALSE(err.empty());
  auto re = Regex::compile("(a+)+b", nullptr);
  ASSERT_TRUE(re);
  EXPECT_FALSE(re->search(std::string(proc::kMaxCmdline, 'a')));
}

TEST(Classifier, MembersPerRuleSkipsKernelThreadsAndZombies) {
  Match node;
  node.comm = {"node"};
  Match any_b;
  any_b.cmdline = Regex::compile("b", nullptr);
  std::vector<Rule> rules = {rule("node", node), rule("b", any_b)};
  FakeInfo info;
  info.facts[3].cmdline = "b";
  info.facts[4].cmdline = "b";
  auto k = proc(4, "node", 0, 0);
  k.kernel_thread = true;
  auto z = proc(5, "node", 0, 0);
  z.state = 'Z';
  auto s = snap(0, {proc(2, "node", 0, 0), proc(3, "node", 0, 0), k, z});
  Classifier c(&rules);
  auto cls = c.classify(s, info);
  EXPECT_EQ(cls.members[0], (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(cls.members[1], (std::vector<std::size_t>{1}));
  EXPECT_EQ(cls.first_rule, (std::vector<int>{0, 0, -1, -1}));
}

TEST(Classifier, CachesByIdentityAndReclassifiesAfterExec) {
  Match m;
  m.cmdline = Regex::compile("worker", nullptr);
  std::vector<Rule> rules = {rule("w", m)};
  FakeInfo info;
  info.facts[9].cmdline = "worker --x";
  Classifier c(&rules);
  auto s = snap(0, {proc(9, "python", 0, 0)});
  EXPECT_EQ(c.classify(s, info).members[0].size(), 1U);
  const int reads = info.reads;
  EXPECT_EQ(c.classify(s, info).members[0].size(), 1U);
  EXPECT_EQ(info.reads, reads);  // cached
  // exec: same identity, new name and command line
  info.facts[9].cmdline = "idle";
  auto s2 = snap(1, {proc(9, "sleep", 0, 0)});
  EXPECT_TRUE(c.classify(s2, info).members[0].empty());
  EXPECT_EQ(info.forgets, 1);
}

TEST(Classifier, AnExecUnderTheSameNameIsMatchedAfreshOnceForgotten) {
  Match m;
  m.cmdline = Regex::compile("worker", nullptr);
  std::vector<Rule> rules = {rule("w", m)};
  FakeInfo info;
  info.facts[9].cmdline = "idle";
  Classifier c(&rules);
  const auto s = snap(0, {proc(9, "python", 0, 0)});
  EXPECT_TRUE(c.classify(s, info).members[0].empty());
  info.facts[9].cmdline = "worker --x";                 // exec'd: same identity, same name
  EXPECT_TRUE(c.classify(s, info).members[0].empty());  // still the cached verdict
  c.forget(s.processes[0].id);
  EXPECT_EQ(c.classify(s, info).members[0].size(), 1U);
}

TEST(Regex, ExpandedSizeCountsWhatRegcompBuilds) {
  EXPECT_EQ(expanded_size("abc"), 3);
  EXPECT_EQ(expanded_size("a+"), 2);
  EXPECT_EQ(expanded_size("a*b?"), 2);
  EXPECT_EQ(expanded_size("a{3}"), 3);
  EXPECT_EQ(expanded_size("(ab){2,5}"), 10);
  EXPECT_EQ(expanded_size("a{2,}"), 3);
  EXPECT_EQ(expanded_size("((a+)+)+"), 8);
  EXPECT_EQ(expanded_size("[a-z]+x"), 3);
  EXPECT_EQ(expanded_size("[]a]"), 1);
  EXPECT_EQ(expanded_size("\\+"), 1);  // an escaped plus is a character
  EXPECT_EQ(expanded_size("(a{50}){50}"), 2500);
}

TEST(Regex, PatternsThatWouldBlowUpAreRefusedBeforeCompiling) {
  std::string err;
  EXPECT_TRUE(Regex::compile("node .*server\\.js --port [0-9]{2,5}", &err)) << err;
  EXPECT_TRUE(Regex::compile("(a{50}){50}", &err)) << err;
  EXPECT_FALSE(Regex::compile("ii+++*++i", &err));
  EXPECT_NE(err.find("quantifier directly after another at character 4"), std::string::npos) << err;
  EXPECT_EQ(stacked_quantifier("a+b*c{2}[+*]\\++"), std::nullopt);
  EXPECT_EQ(stacked_quantifier("a{2}*"), 4U);
  EXPECT_EQ(stacked_quantifier("\\[++"), 3U);  // an escaped '[' opens no bracket expression
  for (const std::string bad :
       {std::string("((a{50}){50}){50}"),
        std::string("((((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+"),
        std::string("a{999999999999}")}) {
    err.clear();
    EXPECT_FALSE(Regex::compile(bad, &err)) << bad;
    EXPECT_NE(err.find("expand"), std::string::npos) << err;
  }
  EXPECT_FALSE(Regex::compile(std::string(kMaxPatternLength + 1, 'a'), &err));
  EXPECT_NE(err.find("longer than"), std::string::npos);
}

TEST(Classifier, DisabledRulesMatchNothing) {
  Match m;
  m.comm = {"x"};
  auto r = rule("x", m);
  r.enabled = false;
  std::vector<Rule> rules = {r};
  FakeInfo info;
  Classifier c(&rules);
  EXPECT_TRUE(c.classify(snap(0, {proc(3, "x", 0, 0)}), info).members[0].empty());
}

}  // namespace
}  // namespace freezr::engine

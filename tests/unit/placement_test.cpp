// Where processes live, from /proc/PID/cgroup files as the kernel writes them on pure v2,
// legacy v1 and hybrid machines, for services, sessions, user managers and containers.
#include "proc/placement.h"

#include <gtest/gtest.h>

#include <string>

namespace freezr::proc {
namespace {

const std::string kId = "3f2a9c1b7d0e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a";

TEST(Placement, AServiceOnPureV2) {
  const auto p = parse_placement("0::/system.slice/kesl.service\n");
  EXPECT_EQ(p.cgroup, "/system.slice/kesl.service");
  EXPECT_EQ(p.unit, "kesl.service");
  EXPECT_EQ(p.system_unit, "kesl.service");
  EXPECT_EQ(p.slices, std::vector<std::string>{"system.slice"});
  EXPECT_EQ(p.slice(), "system.slice");
  EXPECT_FALSE(p.uid);
  EXPECT_FALSE(p.user_unit());
  EXPECT_EQ(p.container_kind, ContainerKind::kNone);
  EXPECT_EQ(p.container_label(), "");
}

TEST(Placement, AnAppOfAUsersManagerIsItsOwnUnitUnderTheManagersService) {
  const auto p = parse_placement(
      "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
      "app-gnome-firefox-4242.scope\n");
  EXPECT_EQ(p.unit, "app-gnome-firefox-4242.scope");
  EXPECT_EQ(p.system_unit, "user@1000.service");
  EXPECT_EQ(p.slices, (std::vector<std::string>{"user.slice", "user-1000.slice", "app.slice"}));
  EXPECT_EQ(p.uid, 1000U);
  EXPECT_TRUE(p.user_unit());
}

TEST(Placement, ALoginSessionScope) {
  const auto p = parse_placement("0::/user.slice/user-1001.slice/session-3.scope\n");
  EXPECT_EQ(p.unit, "session-3.scope");
  EXPECT_EQ(p.slice(), "user-1001.slice");
  EXPECT_EQ(p.uid, 1001U);
  EXPECT_FALSE(p.user_unit());
}

TEST(Placement, LegacyV1ReadsTheNamedSystemdHierarchy) {
  const auto p = parse_placement(
      "12:pids:/system.slice/kesl.service\n"
      "11:memory:/system.slice/kesl.service\n"
      "4:cpu,cpuacct:/system.slice/kesl.service\n"
      "3:freezer:/\n"
      "1:name=systemd:/system.slice/kesl.service\n");
  EXPECT_EQ(p.unit, "kesl.service");
  EXPECT_EQ(p.slice(), "system.slice");
}

TEST(Placement, HybridPrefersTheUnifiedLineAndFallsBackToNameSystemd) {
  const auto both = parse_placement(
      "13:freezer:/\n"
      "4:cpu,cpuacct:/user.slice\n"
      "1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n"
      "0::/user.slice/user-1000.slice/session-2.scope\n");
  EXPECT_EQ(both.unit, "session-2.scope");
  EXPECT_EQ(both.uid, 1000U);
  // A unified line at the root (a hybrid machine whose v2 tree is unused) says nothing.
  const auto v1 = parse_placement(
      "1:name=systemd:/system.slice/cron.service\n"
      "0::/\n");
  EXPECT_EQ(v1.unit, "cron.service");
}

TEST(Placement, DockerWithTheSystemdDriverAndWithCgroupfs) {
  const auto sd = parse_placement("0::/system.slice/docker-" + kId + ".scope\n");
  EXPECT_EQ(sd.container_kind, ContainerKind::kDocker);
  EXPECT_EQ(sd.container, kId);
  EXPECT_EQ(sd.container_label(), "docker:3f2a9c1b7d0e");
  EXPECT_EQ(sd.unit, "docker-" + kId + ".scope");
  const auto fs =
      parse_placement("12:memory:/docker/" + kId + "\n1:name=systemd:/docker/" + kId + "\n");
  EXPECT_EQ(fs.container_kind, ContainerKind::kDocker);
  EXPECT_EQ(fs.container, kId);
  EXPECT_EQ(fs.unit, "");
}

TEST(Placement, PodmanRootfulAndRootless) {
  const auto rootful = parse_placement("0::/machine.slice/libpod-" + kId + ".scope/container\n");
  EXPECT_EQ(rootful.container_kind, ContainerKind::kPodman);
  EXPECT_EQ(rootful.container, kId);
  EXPECT_EQ(rootful.slice(), "machine.slice");
  const auto rootless =
      parse_placement("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId +
                      ".scope/container\n");
  EXPECT_EQ(rootless.container_kind, ContainerKind::kPodman);
  EXPECT_EQ(rootless.uid, 1000U);
  EXPECT_EQ(rootless.unit, "libpod-" + kId + ".scope");
  EXPECT_TRUE(rootless.user_unit());
  // conmon, podman's monitor beside the container, is not the container.
  const auto conmon = parse_placement("0::/machine.slice/libpod-conmon-" + kId + ".scope\n");
  EXPECT_EQ(conmon.container_kind, ContainerKind::kNone);
  EXPECT_EQ(conmon.unit, "libpod-conmon-" + kId + ".scope");
}

TEST(Placement, NspawnMachinesStopAtTheMachinesUnit) {
  const auto svc = parse_placement(
      "0::/machine.slice/systemd-nspawn@web.service/payload/system.slice/nginx.service\n");
  EXPECT_EQ(svc.container_kind, ContainerKind::kMachine);
  EXPECT_EQ(svc.container, "web");
  EXPECT_EQ(svc.unit, "systemd-nspawn@web.service");  // not the container's own nginx
  EXPECT_EQ(svc.slice(), "machine.slice");
  const auto scope = parse_placement("0::/machine.slice/machine-build\\x2d1.scope/payload\n");
  EXPECT_EQ(scope.container, "build-1");
  EXPECT_EQ(scope.container_label(), "machine:build-1");
}

TEST(Placement, ContainerdUnderKubernetesAndLxc) {
  const auto k8s = parse_placement(
      "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice/"
      "cri-containerd-" +
      kId + ".scope\n");
  EXPECT_EQ(k8s.container_kind, ContainerKind::kContainerd);
  EXPECT_EQ(k8s.slice(), "kubepods-burstable-pod12.slice");
  const auto crio = parse_placement("0::/kubepods.slice/crio-" + kId + ".scope\n");
  EXPECT_EQ(crio.container_kind, ContainerKind::kCrio);
  const auto lxc = parse_placement("0::/lxc.payload.db/system.slice/postgresql.service\n");
  EXPECT_EQ(lxc.container_kind, ContainerKind::kLxc);
  EXPECT_EQ(lxc.container, "db");
  EXPECT_EQ(lxc.unit, "");  // the container's services are its own manager's
  const auto old = parse_placement("4:cpu:/lxc/db\n1:name=systemd:/lxc/db\n");
  EXPECT_EQ(old.container_label(), "lxc:db");
}

TEST(Placement, TheRootInitAndGarbage) {
  EXPECT_EQ(parse_placement("0::/\n").unit, "");
  EXPECT_EQ(parse_placement("0::/init.scope\n").unit, "init.scope");
  for (const char* bad : {"", "garbage", "0::relative/path", "::\n", "0::/.service\n"}) {
    const auto p = parse_placement(bad);
    EXPECT_EQ(p.unit, "") << bad;
    EXPECT_EQ(p.container_kind, ContainerKind::kNone) << bad;
  }
  // Odd but harmless names are kept as they are: matching is by glob on the raw name.
  EXPECT_EQ(parse_placement("0::/system.slice/we ird\\x.service\n").unit, "we ird\\x.service");
}

TEST(Placement, UnitNamesAreUnescapedOnlyWhereSystemdEscapes) {
  EXPECT_EQ(unescape_unit("web\\x2d1"), "web-1");
  EXPECT_EQ(unescape_unit("a\\x2"), "a\\x2");
  EXPECT_EQ(unescape_unit("a\\xZZb"), "a\\xZZb");
  EXPECT_EQ(unescape_unit(""), "");
}

TEST(Placement, ContainersMatchByNameOrIdPrefixAndEngine) {
  const auto docker = parse_placement("0::/system.slice/docker-" + kId + ".scope\n");
  EXPECT_TRUE(container_matches(docker, "3f2a"));
  EXPECT_TRUE(container_matches(docker, kId));
  EXPECT_TRUE(container_matches(docker, "docker:3f2a9c"));
  EXPECT_TRUE(container_matches(docker, "docker:"));
  EXPECT_FALSE(container_matches(docker, "podman:3f2a"));
  EXPECT_FALSE(container_matches(docker, "2a9c"));
  EXPECT_FALSE(container_matches(docker, ""));
  const auto machine = parse_placement("0::/machine.slice/machine-web.scope/payload\n");
  EXPECT_TRUE(container_matches(machine, "web"));
  EXPECT_FALSE(container_matches(machine, "we"));  // names match whole, ids by prefix
  EXPECT_FALSE(container_matches(parse_placement("0::/system.slice/kesl.service\n"), "kesl"));
}

TEST(Placement, ARestartWithoutServiceTakesOnlyASystemServiceThatIsNotFreezR) {
  const auto ok =
      restart_target(parse_placement("0::/system.slice/kesl.service\n"), "freezr.service");
  EXPECT_EQ(ok.unit, "kesl.service");
  EXPECT_EQ(ok.refusal, "");
  const auto refused = [](const std::string& cgroup) {
    return restart_target(parse_placement("0::" + cgroup + "\n"), "freezr.service");
  };
  EXPECT_EQ(refused("/system.slice/freezr.service").refusal, "freezr.service is FreezR's own unit");
  EXPECT_NE(refused("/user.slice/user-1000.slice/session-3.scope").refusal.find("not a service"),
            std::string::npos);
  EXPECT_NE(refused("/user.slice/user-1000.slice/user@1000.service/app.slice/x.service")
                .refusal.find("belongs to the user manager user@1000.service"),
            std::string::npos);
  EXPECT_NE(refused("/user.slice/user-1000.slice/user@1000.service").refusal.find("session"),
            std::string::npos);
  EXPECT_NE(refused("/system.slice/docker-" + kId + ".scope").refusal.find("container"),
            std::string::npos);
  EXPECT_NE(refused("/").refusal.find("no systemd unit"), std::string::npos);
  EXPECT_EQ(refused("/").unit, "");
}

}  // namespace
}  // namespace freezr::proc

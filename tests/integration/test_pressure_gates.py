"""A rule gated by CPU pressure acts only while the test's own burners raise it. It runs alone
(RUN_SERIAL): the pressure it reads is the whole machine's."""
import time
import unittest

from harness import (TestCase, cgroup_v2_root, monitor, rule, unique_name,
                     wait_until)
from guide import ScenarioCase
from test_actions import nice_of

GATE = 40.0


def cpu_some_avg10():
    with open("/proc/pressure/cpu") as f:
        return float(f.readline().split()[1].split("=")[1])


class CpuPressureGateTest(TestCase):
    def quiet_phase(self, f, hog, seconds=3.0):
        """Watches for a few seconds while the machine's CPU pressure stays under the gate;
        returns False when it rose over it meanwhile (someone else's load), to try again."""
        if not wait_until(lambda: cpu_some_avg10() < GATE - 10, 120, step=0.5):
            self.fail(f"CPU pressure never fell under {GATE - 10}%: {cpu_some_avg10()}")
        f.wait_scans(2)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if cpu_some_avg10() >= GATE:
                return False
            self.assertEqual(nice_of(hog.pid), 0, "reniced with the gate closed:\n" + f.output())
            time.sleep(0.1)
        return True

    def test_renices_while_the_burners_raise_cpu_pressure_and_releases_after(self):
        hog = self.hog()  # idle: the gate alone is the step's condition
        f = self.freezr(monitor(interval=0.3) +
                        rule("gated", [hog.name], cpu_pressure=GATE, violations=2,
                             action="renice", nice=7))
        self.assertTrue(any(self.quiet_phase(f, hog) for _ in range(5)), f.output())
        burners = [self.hog(cpu=True) for _ in range(6)]
        self.assertTrue(wait_until(lambda: nice_of(hog.pid) == 7, 90), f.output())
        f.wait_for(rf"ACTION rule=gated action=renice .*pid={hog.pid}")
        self.assertRegex(f.output(), r"cpu pressure [0-9.]+% > 40\.0% for 2 scans")
        for b in burners:
            b.stop()
        self.assertTrue(wait_until(lambda: nice_of(hog.pid) == 0, 120), f.output())
        f.wait_for(rf"RELEASE rule=gated pid={hog.pid}")
        self.assertEqual(f.stop(), 0)


class CgroupPressureGateTest(TestCase):
    def group(self, root):
        return self.cgroup(root, unique_name("fzpsi"))

    def test_a_gate_of_the_cgroup_acts_on_the_process_whose_own_group_is_starved(self):
        root = cgroup_v2_root()
        crowded, calm = self.group(root), self.group(root)
        starved, idle = self.hog(), self.hog()
        burners = [self.hog(cpu=True) for _ in range(4)]  # 4 on 2 cores: always one waits
        for h, group in [(starved, crowded), (idle, calm)] + [(b, crowded) for b in burners]:
            self.move(h, group)
        f = self.freezr(monitor(interval=0.3) +
                        rule("tenants", [starved.name, idle.name], cpu_pressure=50,
                             pressure_of="cgroup", violations=2, action="renice", nice=7))
        self.assertTrue(wait_until(lambda: nice_of(starved.pid) == 7, 90), f.output())
        f.wait_for(rf"VIOLATION rule=tenants action=renice pid={starved.pid} .*"
                   r'reason="cpu pressure [\d.]+% > 50\.0% for 2 scans"')
        f.wait_for(rf"ACTION rule=tenants action=renice pid={starved.pid} ")
        # The calm group's process: its own group waits for nothing, whatever the machine does.
        f.wait_scans(5)
        self.assertEqual(nice_of(idle.pid), 0, f.output())
        self.assertEqual(f.count(rf"pid={idle.pid}"), 0, f.output())
        self.assertEqual(f.stop(), 0)


class GuideContainerHostTest(ScenarioCase):
    """The guide's container host (docs/guide/scenarios/13-container-host.md): its rule, as the
    page gives it, on two "containers" of the test's making."""

    group = CgroupPressureGateTest.group

    def test_the_workload_in_the_crowded_container_is_reniced_and_the_calm_one_is_not(self):
        root = cgroup_v2_root()
        crowded, calm = self.group(root), self.group(root)
        starved, idle = self.hog(), self.hog()
        burners = [self.hog(cpu=True) for _ in range(4)]
        for h, group in [(starved, crowded), (idle, calm)] + [(b, crowded) for b in burners]:
            self.move(h, group)
        f = self.scenario("13-container-host.md",
                          [('"^/(app|srv|opt)/"',
                            f'"^{self.workdir}/({starved.name}|{idle.name})$"')])
        self.assertTrue(wait_until(lambda: nice_of(starved.pid) == 10, 90), f.output())
        f.wait_for(rf"ACTION rule=starved action=renice pid={starved.pid} ")
        f.wait_scans(5)
        self.assertEqual(nice_of(idle.pid), 0, f.output())
        self.assertEqual(f.count(rf"pid={idle.pid}\b"), 0, f.output())
        self.assertEqual(f.stop(), 0)


if __name__ == "__main__":
    unittest.main()

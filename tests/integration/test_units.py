"""Where processes live: units and slices of the test's own making in the cgroup v2 tree
(named as systemd names them), seen by `freezr ps`, matched by rules, and restarted without
naming the service, and units frozen and throttled as a whole (over D-Bus, to the stand-in
systemd, which makes its calls take effect on the test's groups)."""
import json
import os
import signal
import subprocess
import unittest
import urllib.request

from harness import (FREEZR, StandInSystemd, TestCase, cgroup_v2_root, monitor, unit_name,
                     wait_until)
from test_actions import nice_of


class UnitsTest(TestCase):
    def setUp(self):
        super().setUp()
        self.slice = unit_name("fzt", ".slice")
        self.top = self.cgroup(cgroup_v2_root(), self.slice)

    def placed(self, unit, **hog):
        """A hog of the test's in a group named unit under the test's slice."""
        h = self.hog(**hog)
        self.move(h, self.cgroup(self.top, unit))
        return h

    def ps(self, *args):
        r = subprocess.run([FREEZR, "ps", "--interval", "0.1", "--format", "json",
                            "--config", self.config_file(""), *args],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def config_file(self, text):
        path = os.path.join(self.workdir, "ps.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_ps_shows_the_unit_and_slice_and_filters_by_a_unit_glob(self):
        svc = unit_name("fzsvc", ".service")
        scope = unit_name("fzapp", ".scope")
        a, b = self.placed(svc), self.placed(scope)
        rows = {r["pid"]: r for r in self.ps()}
        self.assertEqual((rows[a.pid]["unit"], rows[a.pid]["slice"]), (svc, self.slice))
        self.assertEqual((rows[b.pid]["unit"], rows[b.pid]["slice"]), (scope, self.slice))
        self.assertEqual(rows[a.pid]["container"], "")
        only = self.ps("--unit", svc[:9] + "*.service")
        self.assertEqual([r["pid"] for r in only], [a.pid])
        table = subprocess.run([FREEZR, "ps", "--interval", "0.1", "--unit", scope,
                                "--config", self.config_file("")],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(table.returncode, 0, table.stderr)
        self.assertRegex(table.stdout, r"(?m)^\s*PID .* RULE\s+UNIT$")
        self.assertRegex(table.stdout, rf"(?m)^\s*{b.pid} {b.name}\b.* {scope}$")
        self.assertNotIn(str(a.pid), table.stdout)

    def test_rules_by_unit_and_by_slice_act_only_where_the_process_lives(self):
        inside_unit = unit_name("fzin", ".service")
        inside = self.placed(inside_unit, cpu=True)
        outside = self.hog(cpu=True)  # the same rule's names, but in no unit of the test's
        names = f'"{inside.name}", "{outside.name}"'
        f = self.freezr(
            monitor(interval=0.3) +
            "[[rule]]\nname = \"by-unit\"\n"
            f"match = {{ comm = [{names}], unit = \"{inside_unit[:8]}*.service\" }}\n"
            "cpu_percent = 10\nviolations = 2\naction = \"renice\"\nnice = 6\n"
            "[[rule]]\nname = \"by-slice\"\n"
            f"match = {{ comm = [{names}], slice = \"{self.slice}\" }}\n"
            "cpu_percent = 10\nviolations = 2\naction = \"log\"\n")
        self.assertTrue(wait_until(lambda: nice_of(inside.pid) == 6, 30), f.output())
        # The API: the unit and slice of each process, and only a unit's processes on asking.
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        url = f"http://127.0.0.1:{port}/api/v1/processes?limit=100000&unit={inside_unit}"
        with urllib.request.urlopen(url, timeout=10) as r:
            rows = json.load(r)["processes"]
        self.assertEqual([(p["pid"], p["unit"], p["slice"], p["container"]) for p in rows],
                         [(inside.pid, inside_unit, self.slice, "")])
        f.wait_for(rf"ACTION rule=by-slice action=log pid={inside.pid} ")
        f.wait_scans(f.scans() + 4)
        self.assertEqual(nice_of(outside.pid), 0)
        self.assertEqual(f.count(rf"pid={outside.pid}\b"), 0, f.output())
        self.assertEqual(f.stop(), 0)

    def test_a_rule_summed_per_unit_acts_on_the_unit_over_its_limit_not_its_sibling(self):
        big_unit, small_unit = unit_name("fzbig", ".service"), unit_name("fzsml", ".service")
        big = [self.placed(big_unit, mem_mb=60)]
        self.move(self.hog(mem_mb=60), os.path.join(self.top, big_unit))
        big.append(self.hogs[-1])
        small = self.placed(small_unit, mem_mb=80)  # larger than each of big's, not than both
        names = ", ".join(f'"{h.name}"' for h in big + [small])
        f = self.freezr(
            monitor(interval=0.3) +
            "[[rule]]\nname = \"per-unit\"\n"
            f"match = {{ comm = [{names}], slice = \"{self.slice}\" }}\n"
            "aggregate = \"unit\"\nmemory_mb = 100\nviolations = 2\n"
            "action = \"renice\"\nnice = 5\n")
        self.assertTrue(wait_until(lambda: all(nice_of(h.pid) == 5 for h in big), 30),
                        f.output())
        f.wait_for(rf"VIOLATION rule=per-unit action=renice processes=2 unit={big_unit} "
                   r"metric=memory")
        f.wait_scans(f.scans() + 4)
        self.assertEqual(nice_of(small.pid), 0)
        self.assertEqual(f.count(rf"unit={small_unit}"), 0, f.output())
        self.assertEqual(f.stop(), 0)

    def test_a_restart_without_a_service_restarts_the_processes_unit_and_refuses_a_scope(self):
        systemd = StandInSystemd(self.workdir)
        self.addCleanup(systemd.close)
        svc = unit_name("fzrs", ".service")
        in_service = self.placed(svc, cpu=True)
        in_scope = self.placed(unit_name("fzsc", ".scope"), cpu=True)
        f = self.freezr(
            monitor(interval=0.3) +
            "[[rule]]\nname = \"own-unit\"\n"
            f"match = {{ comm = [\"{in_service.name}\", \"{in_scope.name}\"] }}\n"
            "cpu_percent = 10\nviolations = 2\naction = \"restart\"\n",
            env=systemd.env)
        f.wait_for(rf"ACTION rule=own-unit action=restart service={svc}: restart job queued")
        calls = systemd.calls()
        self.assertTrue(calls)
        self.assertEqual(set(calls), {f"RestartUnit {svc} replace"})
        f.wait_for(rf"ACTION FAILED rule=own-unit action=restart pid={in_scope.pid} .*"
                   r"not restarted: fzsc-[0-9a-f]+\.scope is not a service")
        self.assertTrue(in_service.alive() and in_scope.alive())  # restart never signals
        self.assertEqual(f.stop(), 0)

    def whole_unit(self, action):
        """A unit of two CPU-burning hogs, the stand-in systemd acting on its group, and a
        FreezR whose rule judges the unit by its place alone with action."""
        systemd = StandInSystemd(self.workdir, cgroups=self.top)
        self.addCleanup(systemd.close)
        unit = unit_name("fzwh", ".service")
        hogs = [self.placed(unit, cpu=True)]
        self.move(self.hog(cpu=True), os.path.join(self.top, unit))
        hogs.append(self.hogs[-1])
        config = (monitor(interval=0.3) +
                  "[[rule]]\nname = \"whole\"\n"
                  f"match = {{ unit = \"{unit}\" }}\n"
                  "aggregate = \"unit\"\ncpu_percent = 20\nviolations = 2\n" + action)
        return systemd, unit, hogs, config

    def group_file(self, unit, name):
        with open(os.path.join(self.top, unit, name)) as f:
            return f.read().strip()

    def test_a_unit_is_frozen_through_systemd_and_thawed_when_the_time_is_over(self):
        systemd, unit, hogs, config = self.whole_unit("action = \"freeze\"\nduration = 2\n")
        f = self.freezr(config, env=systemd.env)
        f.wait_for(rf"ACTION rule=whole action=freeze pid={hogs[0].pid} .*unit={unit}: "
                   rf"frozen for 2s by systemd \(FreezeUnit {unit}\)")
        self.assertEqual(self.group_file(unit, "cgroup.freeze"), "1")
        f.wait_for(rf"UNDO rule=whole action=freeze unit={unit}: undone \(freeze time over\)")
        self.assertEqual(self.group_file(unit, "cgroup.freeze"), "0")
        calls = systemd.calls()
        self.assertEqual(calls[:2], [f"FreezeUnit {unit}", f"ThawUnit {unit}"], calls)
        self.assertTrue(all(h.alive() for h in hogs))
        self.assertEqual(f.stop(), 0)

    def test_a_unit_throttled_through_systemd_gets_its_quota_back_when_freezr_stops(self):
        systemd, unit, hogs, config = self.whole_unit(
            "action = \"throttle\"\ncpu_limit = 20\n")
        f = self.freezr(config, env=systemd.env)
        f.wait_for(rf"ACTION rule=whole action=throttle pid={hogs[0].pid} .*unit={unit}: "
                   rf"limited to 20% of a core by systemd \(runtime CPUQuota=20% on {unit}\)")
        # The quota reaches the group where the v2 tree has the cpu controller (not on a
        # hybrid machine's unified tree); the calls say it everywhere.
        has_cpu = os.path.exists(os.path.join(self.top, unit, "cpu.max"))
        if has_cpu:
            self.assertEqual(self.group_file(unit, "cpu.max"), "20000 100000")
        self.assertEqual(f.stop(), 0)
        if has_cpu:
            self.assertEqual(self.group_file(unit, "cpu.max"), "max 100000")
        self.assertIn(f"SetUnitProperties {unit} CPUQuotaPerSecUSec=200000", systemd.calls())
        self.assertEqual(systemd.calls()[-1],
                         f"SetUnitProperties {unit} CPUQuotaPerSecUSec=18446744073709551615")

    def test_a_unit_killed_as_a_whole_goes_through_killunit(self):
        systemd, unit, hogs, config = self.whole_unit("action = \"kill\"\n")
        f = self.freezr(config, env=systemd.env)
        f.wait_for(rf"ACTION rule=whole action=kill pid={hogs[0].pid} .*unit={unit}: "
                   rf"SIGTERM sent to every process of {unit} \(KillUnit\)")
        self.assertTrue(wait_until(lambda: not any(h.alive() for h in hogs), 20), f.output())
        f.wait_for(rf"ACTION rule=whole action=kill pid={hogs[1].pid} .*: exited [0-9.]+ s after "
                   r"SIGTERM")
        self.assertIn(f"KillUnit {unit} all 15", systemd.calls())
        self.assertEqual(f.stop(), 0)

    def test_freezr_killed_mid_freeze_of_a_unit_thaws_it_when_started_again(self):
        systemd, unit, _, config = self.whole_unit("action = \"freeze\"\nduration = 120\n")
        f = self.freezr(config, env=systemd.env)
        f.wait_for(rf"unit={unit}: frozen for 120s by systemd")
        f.signal(signal.SIGKILL)
        f.proc.wait()
        self.assertEqual(self.group_file(unit, "cgroup.freeze"), "1")
        g = self.freezr(config.replace("violations = 2", "violations = 1000"),
                        config_name="again.toml", env=systemd.env)
        g.wait_for(rf"PREFLIGHT check=leftovers .*freeze-unit of {unit} by rule 'whole' left by "
                   r"an earlier run: undone")
        self.assertEqual(self.group_file(unit, "cgroup.freeze"), "0")
        self.assertEqual(systemd.calls()[-1], f"ThawUnit {unit}")
        self.assertEqual(g.stop(), 0)


if __name__ == "__main__":
    unittest.main()

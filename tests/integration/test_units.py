"""Where processes live: units and slices of the test's own making in the cgroup v2 tree
(named as systemd names them), seen by `freezr ps`, matched by rules, and restarted without
naming the service (over D-Bus, to the stand-in systemd)."""
import json
import os
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


if __name__ == "__main__":
    unittest.main()

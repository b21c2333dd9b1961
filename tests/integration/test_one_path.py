"""Every effect takes one path: rules' steps, on_exec actions and memory-pressure kills are all
decisions carried out by the actuator, so --dry-run touches none of them, and every decision
is recorded with its reason for `freezr why`."""
import json
import os
import re
import subprocess
import unittest
import urllib.request

from harness import (FREEZR, TestCase, cgroup_text, mem_available_percent, monitor, rule,
                     wait_until)


def exec_rule(name, comm, action="kill"):
    return (f'[[rule]]\nname = "{name}"\nmatch = {{ comm = ["{comm}"] }}\n'
            f'on_exec = {{ action = "{action}" }}\n')


def pressure(candidates, action="kill"):
    """A critical level the machine is already at, acting only on the test's processes."""
    names = ", ".join(f'"{n}"' for n in candidates)
    return (f'[pressure]\ncandidates = {{ comm = [{names}] }}\n'
            '[pressure.warning]\nsome_avg10 = 100\naction = "log"\n'
            f'[pressure.critical]\nmem_available_percent = {min(mem_available_percent()[0] + 4, 100):.3f}\n'
            f'action = "{action}"\n')


class DryRunTest(TestCase):
    def test_no_kind_of_decision_changes_anything_in_dry_run(self):
        renice, throttle, freeze, kill, restart = (self.hog(cpu=True) for _ in range(5))
        at_exec = self.hog()
        victim = self.hog(mem_mb=64)
        everyone = [renice, throttle, freeze, kill, restart, at_exec, victim]
        before = {h.pid: (h.nice(), cgroup_text(h.pid)) for h in everyone}
        config = (monitor(interval=0.2) +
                  rule("r-renice", [renice.name], cpu_percent=5, violations=2, action="renice",
                       nice=10) +
                  rule("r-throttle", [throttle.name], cpu_percent=5, violations=2,
                       action="throttle", cpu_limit=10) +
                  rule("r-freeze", [freeze.name], cpu_percent=5, violations=2, action="freeze",
                       duration=600) +
                  rule("r-kill", [kill.name], cpu_percent=5, violations=2, action="kill") +
                  rule("r-restart", [restart.name], cpu_percent=5, violations=2,
                       action="restart", service="fz-dry-run-test") +
                  exec_rule("r-exec", at_exec.name) + pressure([victim.name]))
        f = self.freezr(config, args=["--dry-run"])
        for what in [rf"DRY-RUN rule=r-renice .*pid={renice.pid} .*would renice to 10",
                     rf"DRY-RUN rule=r-throttle .*pid={throttle.pid} .*would throttle",
                     rf"DRY-RUN rule=r-freeze .*pid={freeze.pid} .*would freeze",
                     rf"DRY-RUN rule=r-kill .*pid={kill.pid} .*would send SIGTERM",
                     r"DRY-RUN rule=r-restart .*would restart fz-dry-run-test.service",
                     rf"DRY-RUN rule=r-exec .*pid={at_exec.pid} .*would send SIGTERM",
                     rf"DRY-RUN pid={victim.pid} name={victim.name} .*would kill pid"]:
            f.wait_for(what, timeout=30)
        f.wait_scans(3)
        for h in everyone:
            self.assertTrue(h.alive(), f"{h.name} died in dry-run:\n{f.output()}")
            self.assertNotIn(h.state(), "Tt", f"{h.name} stopped in dry-run")
            self.assertEqual((h.nice(), cgroup_text(h.pid)), before[h.pid],
                             f"{h.name} changed in dry-run")
        self.assertIn("cgroups: not set up (dry-run", f.output())
        # The freeze it would have made is shown as a simulated one, as a real run would hold.
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/frozen", timeout=10) as r:
            frozen = json.load(r)["frozen"]
        self.assertIn({"pid": freeze.pid, "kind": "freeze-dry-run", "rule": "r-freeze"},
                      [{k: e[k] for k in ("pid", "kind", "rule")} for e in frozen])
        self.assertEqual(f.count("OOM-KILL"), 0)
        self.assertEqual(f.stop(), 0)


def why(workdir, config, pid):
    r = subprocess.run([FREEZR, "why", str(pid), "--config", config, "--format", "json"],
                       capture_output=True, text=True, cwd=workdir, timeout=30)
    if r.returncode != 0:
        return []
    return json.loads(r.stdout)


class WhyTest(TestCase):
    def explained(self, f, pid, pattern):
        """Waits until `freezr why PID` has a decision whose reason matches pattern and the
        outcome of the action it led to; returns every row."""
        rx = re.compile(pattern)

        def complete():
            rows = why(self.workdir, f.config_path, pid)
            decided = any(r["kind"] == "decision" and rx.search(r["reason"]) for r in rows)
            done = any(r["kind"] == "action" and r["ok"] for r in rows)
            return rows if decided and done else None
        rows = wait_until(complete, 20)
        self.assertTrue(rows, f"no decision matching {pattern!r} and outcome for {pid}:\n"
                              f"{why(self.workdir, f.config_path, pid)}\n{f.output()}")
        return rows

    def test_why_explains_a_rule_kill_an_exec_kill_and_a_pressure_kill(self):
        hog = self.hog(cpu=True)
        at_exec = self.hog()
        victim = self.hog(mem_mb=64)
        f = self.freezr(monitor(interval=0.2) +
                        rule("hot", [hog.name], cpu_percent=5, violations=2, action="kill") +
                        exec_rule("banned", at_exec.name) + pressure([victim.name]))
        for h in (hog, at_exec, victim):
            self.assertTrue(wait_until(lambda: not h.alive(), 20), f"{h.name}:\n{f.output()}")
        rows = self.explained(f, hog.pid, r"^act: cpu \d+\.\d% > 5\.0% for 2 scans$")
        self.assertEqual(rows[-1]["rule"], "hot")  # oldest last
        outcome = [r for r in rows if r["kind"] == "action" and r["ok"]]
        self.assertRegex(outcome[0]["reason"], r"exited .* after SIGTERM.*because cpu")
        self.assertGreaterEqual(rows[0]["time"], rows[-1]["time"])  # newest first

        self.explained(f, at_exec.pid, r"^act: matched rule 'banned' at (exec|scan)$")

        rows = self.explained(f, victim.pid,
                              r"^act: critical memory pressure at MemAvailable .*chosen because")
        self.assertTrue(any(r["kind"] == "pressure" and r["action"] == "kill" for r in rows), rows)
        self.assertTrue(any(r["kind"] == "action" and "SIGKILL" in r["reason"] for r in rows),
                        rows)

        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/why?pid={victim.pid}",
                                    timeout=10) as r:
            body = json.load(r)
        self.assertEqual(body["pid"], victim.pid)
        decision = next(e for e in body["entries"] if e["kind"] == "decision")
        self.assertEqual(decision["data"]["origin"], "pressure")
        self.assertEqual(decision["data"]["verdict"], "act")
        f.stop()

    def test_why_says_when_it_knows_nothing(self):
        f = self.freezr(monitor(interval=0.2) + rule("x", ["fznothing00"], cpu_percent=5))
        f.wait_scans(2)
        r = subprocess.run([FREEZR, "why", "999999", "--config", f.config_path],
                           capture_output=True, text=True, cwd=self.workdir, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("nothing about PID 999999", r.stderr)
        r = subprocess.run([FREEZR, "why", "abc"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        f.stop()


if __name__ == "__main__":
    unittest.main()

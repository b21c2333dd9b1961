"""The guide's scenarios 9–12, 14 and 15 (docs/guide/scenarios): each page's configuration on
the test's own processes, doing what the page says. (Scenario 13, the container host, reads
cgroup pressure and runs alone in test_pressure_gates.py.)"""
import datetime
import json
import os
import re
import signal
import subprocess
import unittest
import urllib.error
import urllib.request

from guide import SCENARIOS, TEST_PIECE, ScenarioCase
from harness import (FREEZR, SOURCE_DIR, cgroup_v2_root, power_supply, unique_name, unit_name,
                     wait_until)
from test_actions import cgroup_of, mounts, nice_of
from test_pressure import SyntheticMemory


def status(workdir):
    with open(os.path.join(workdir, "data", "status.json")) as f:
        return json.load(f)


class GameTest(ScenarioCase):
    def test_the_game_is_never_touched_and_the_other_process_is(self):
        game, other, launcher = (self.hog(cpu=True), self.hog(cpu=True), self.hog())
        f = self.scenario(
            "09-game-never-touched.md",
            [('match = { user = ["gamer"] }', f'match = {{ comm = ["{game.name}", "{other.name}"] }}'),
             ('"eldenring.exe"', f'"{game.name}"'), ('"steam"', f'"{launcher.name}"'),
             ("cpu_percent = 200", "cpu_percent = 30"), ("interval = 10.0", "interval = 0.5")],
            piece=TEST_PIECE + f'[pressure]\ncandidates = {{ comm = ["{game.name}", '
                               f'"{other.name}", "{launcher.name}"] }}\n')
        self.assertTrue(wait_until(lambda: nice_of(other.pid) == 10, 40), f.output())
        f.wait_for(rf"SKIP rule=heavy action=renice pid={game.pid} .*protected")
        self.assertEqual(nice_of(game.pid), 0)
        f.wait_for(rf'PROFILE from=none to=gaming why="{launcher.name} \(PID {launcher.pid}\) runs"')
        self.assertEqual(status(self.workdir)["profile"]["name"], "gaming")
        r = subprocess.run([FREEZR, "oom-order", "--format", "json", "--config", f.config_path],
                           capture_output=True, text=True, cwd=self.workdir, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {row["pid"]: row for row in json.loads(r.stdout)}
        self.assertIs(rows[game.pid]["chosen"], False, rows.get(game.pid))
        self.assertIn("protected", rows[game.pid]["reason"])
        self.assertIs(rows[other.pid]["chosen"], True)
        self.assertEqual(f.stop(), 0)
        self.assertEqual(nice_of(other.pid), 0)


class BatteryTest(ScenarioCase):
    def test_the_build_is_left_alone_on_mains_throttled_on_battery_and_released_after(self):
        v2, v1_cpu = mounts()
        controller = "cpu" if v1_cpu else ""
        build = self.hog(cpu=True)
        origin = cgroup_of(build.pid, controller)
        sys_root, online = power_supply(self.workdir)
        f = self.scenario("10-laptop-on-battery.md",
                          [('category = "build"', f'comm = ["{build.name}"]'),
                           ("interval = 6.0", "interval = 0.5"),
                           ("cpu_percent = 90", "cpu_percent = 30")],
                          args=("--sys-root", sys_root))
        f.wait_scans(6)
        self.assertEqual((nice_of(build.pid), cgroup_of(build.pid, controller)), (0, origin))
        with open(online, "w") as out:
            out.write("0\n")
        f.wait_for(r'PROFILE from=none to=battery why="on battery"', timeout=40)
        f.wait_for(rf"ACTION rule=build action=throttle .*pid={build.pid}\b.*limited to 100% "
                   r"of a core", timeout=30)
        self.assertRegex(cgroup_of(build.pid, controller), r"/freezr/thr-[0-9a-f]{8}-build-")
        with open(online, "w") as out:
            out.write("1\n")
        f.wait_for(r"PROFILE from=battery to=none", timeout=40)
        self.assertTrue(wait_until(lambda: cgroup_of(build.pid, controller) == origin, 20),
                        f.output())
        self.assertEqual(f.stop(), 0)


class SharedServerTest(ScenarioCase):
    def test_the_largest_process_of_the_user_over_budget_dies_and_nothing_else(self):
        os.chmod(self.workdir, 0o755)  # the other user runs the hog's copy from here
        name = unique_name("user")
        big = self.hog(name=name, mem_mb=35, user="nobody")
        small = self.hog(name=name, mem_mb=25, user="nobody")
        root_own = self.hog(name=name, mem_mb=35)
        # The test's own "user.slice", a session scope in it for each.
        logins = self.cgroup(cgroup_v2_root(), unit_name("fzusers", ".slice"))
        for h in (big, small, root_own):
            self.move(h, self.cgroup(logins, unit_name("fzsession", ".scope")))
        # nobody has 60 MiB over a 50 MiB budget, root 35 under it; bob is root (under 100).
        f = self.scenario("11-shared-server-per-user-budgets.md",
                          [('match = { slice = "user.slice" }',
                            f'match = {{ comm = ["{name}"], '
                            f'slice = "{os.path.basename(logins)}" }}'),
                           ('match = { user = ["bob"] }',
                            f'match = {{ comm = ["{name}"], user = ["root"] }}'),
                           ("memory_mb = 65536", "memory_mb = 50"),
                           ("memory_mb = 32768", "memory_mb = 100")])
        self.assertTrue(wait_until(lambda: not big.alive(), 30), f.output())
        f.wait_for(r'VIOLATION rule=user-memory action=kill .*user="uid 65534" metric=memory')
        f.wait_for(rf"ACTION rule=user-memory action=kill .*pid={big.pid}\b")
        f.wait_scans(5)
        self.assertTrue(small.alive() and root_own.alive(), f.output())
        self.assertEqual(f.count(r"ACTION rule=\S+ action=kill .*SIGTERM sent"), 1, f.output())
        self.assertEqual(f.stop(), 0)


class FleetTest(ScenarioCase):
    def test_the_kill_is_in_the_metrics_behind_the_token_and_prometheus_takes_the_config(self):
        hog = self.hog(cpu=True)
        token = "t" + unique_name("tok") * 2
        token_file = os.path.join(self.workdir, "token")
        with open(os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as t:
            t.write(token + "\n")
        f = self.scenario("12-fleet-behind-prometheus.md",
                          [('"0.0.0.0:9813"', '"0.0.0.0:0"'),
                           ('"/etc/freezr/token"', f'"{token_file}"'),
                           ('"^/usr/bin/(cargo|gradle|npm) "', f'"^{hog.path}"'),
                           ("cpu_percent = 350", "cpu_percent = 30")],
                          piece='[monitor]\ninterval = 0.3\nkill_grace = 1.0\n'
                                '[logging]\ndir = "logs"\n')
        port = int(f.wait_for(r"listening on 0\.0\.0\.0:(\d+)").group(1))
        self.assertTrue(wait_until(lambda: not hog.alive(), 40), f.output())
        url = f"http://127.0.0.1:{port}/metrics"
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)
        self.assertEqual(refused.exception.code, 401)
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})

        def killed():
            with urllib.request.urlopen(request, timeout=10) as r:
                text = r.read().decode()
            return re.search(r'^freezr_actions_total\{[^}]*rule="runaway"[^}]*action="kill"'
                             r'[^}]*\} 1$', text, re.M)
        self.assertTrue(wait_until(killed, 20), f.output())
        self.assertEqual(f.stop(), 0)
        # The Prometheus side of the page, with its paths made the test's.
        with open(os.path.join(SCENARIOS, "12-fleet-behind-prometheus.md")) as page:
            yaml = re.findall(r"```yaml\n(.*?)```", page.read(), re.S)
        self.assertEqual(len(yaml), 1)
        prometheus = os.path.join(self.workdir, "prometheus.yml")
        with open(prometheus, "w") as out:
            out.write(yaml[0]
                      .replace("/usr/share/freezr/prometheus/alerts.yml",
                               os.path.join(SOURCE_DIR, "packaging", "prometheus", "alerts.yml"))
                      .replace("/etc/prometheus/freezr-token", token_file))
        r = subprocess.run(["promtool", "check", "config", prometheus],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout + r.stderr)


class NoJournalTest(ScenarioCase):
    def test_the_action_is_one_json_line_in_todays_file(self):
        hog = self.hog(cpu=True)
        f = self.scenario("14-machine-without-a-journal.md",
                          [('comm = ["ffmpeg"]', f'comm = ["{hog.name}"]'),
                           ("cpu_percent = 180", "cpu_percent = 30")])
        self.assertTrue(wait_until(lambda: nice_of(hog.pid) == 19, 40), f.output())
        today = os.path.join(self.workdir, "logs",
                             f"process_monitor.log.{datetime.date.today().isoformat()}")

        def action_line():
            try:
                with open(today) as log:
                    lines = [json.loads(line) for line in log if line.strip()]
            except (OSError, ValueError):
                return None
            return next((l for l in lines
                         if l.get("event") == "action" and l.get("pid") == hog.pid), None)
        line = wait_until(action_line, 20)
        self.assertIsNotNone(line, f.output())
        self.assertEqual((line["rule"], line["action"]), ("runaway", "renice"))
        self.assertEqual(line["message"], "nice 19 on 1 thread(s)")
        self.assertEqual(f.stop(), 0)


class EarlyoomTest(ScenarioCase):
    def test_the_preferred_process_dies_first_and_the_larger_lives(self):
        big, preferred = self.hog(mem_mb=512), self.hog(mem_mb=64)
        # 5 % of the synthetic 16 GiB is 819 MiB: at 780 MiB the critical level holds; the
        # preferred process's 64 MiB take it back over.
        memory = SyntheticMemory(os.path.join(self.workdir, "proc"),
                                 [(big, 512), (preferred, 64)], 780)
        self.addCleanup(memory.stop)
        f = self.scenario("15-moving-from-earlyoom.md",
                          [('"/^(chrome|electron)$/"', f'"/^{preferred.name}$/"')],
                          piece=TEST_PIECE + f'[pressure]\ncandidates = {{ comm = '
                                             f'["{big.name}", "{preferred.name}"] }}\n',
                          args=["--proc-root", memory.root])
        self.assertTrue(wait_until(lambda: not preferred.alive(), 30), f.output())
        f.wait_for(rf"OOM-KILL .*pid={preferred.pid}\b")
        f.wait_scans(5)
        self.assertTrue(big.alive(), f.output())
        self.assertEqual(f.count(r"OOM-KILL "), 1, f.output())
        self.assertEqual(f.stop(), 0)


class RustMigrationTest(ScenarioCase):
    """docs/guide/migrating-from-rust-freezr.md: what the Rust FreezR's generate-config writes,
    converted, acts as the page says (node killed after 3 scans; a browser process frozen, then
    killed) and reloads."""

    def test_the_converted_generated_default_acts_as_the_page_says_and_reloads(self):
        node, firefox = self.hog(cpu=True), self.hog(cpu=True)
        r = subprocess.run([FREEZR, "config", "convert",
                            os.path.join(SOURCE_DIR, "tests/fixtures/rust/generated-default.toml")],
                           capture_output=True, text=True, cwd=self.workdir, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        converted = r.stdout
        self.assertIn("# note: [firefox]: a ladder", converted)
        # Every program's name becomes the test's own (the two hogs, or names nothing has);
        # on a busy machine the thresholds are lowered.
        for old, new in [('exe = ["/opt/kaspersky/kesl/libexec/kesl"]',
                          f'exe = ["/{unique_name("nokesl")}"]'),
                         ('exe = ["node", "nodejs"]', f'exe = ["{node.name}"]'),
                         ('comm = ["snapd", "snap", "snap-store"]',
                          f'comm = ["{unique_name("nosnap")}"]'),
                         ('exe = ["firefox", "firefox-esr", "firefox-bin"]',
                          f'exe = ["{firefox.name}"]'),
                         ('exe = ["brave", "brave-browser"]', f'exe = ["{unique_name("nob")}"]'),
                         ('exe = ["telegram-desktop", "Telegram"]',
                          f'exe = ["{unique_name("notg")}"]'),
                         ("cpu_percent = 80.0", "cpu_percent = 30.0"),
                         ("cpu_percent = 95.0", "cpu_percent = 40.0"),
                         ("duration = 5.0", "duration = 1.0")]:
            self.assertIn(old, converted)
            converted = converted.replace(old, new)
        f = self.scenario_text(converted)
        self.assertTrue(wait_until(lambda: not node.alive(), 30), f.output())
        self.assertTrue(wait_until(lambda: not firefox.alive(), 40), f.output())
        out = f.output()
        freeze = re.search(rf"ACTION rule=firefox action=freeze .*pid={firefox.pid}\b", out)
        kill = re.search(rf"ACTION rule=firefox action=kill .*pid={firefox.pid}\b", out)
        self.assertTrue(freeze and kill and freeze.start() < kill.start(), out)
        self.assertRegex(out, rf"VIOLATION rule=node action=kill pid={node.pid} .*for 3 scans")
        f.signal(signal.SIGHUP)
        f.wait_for(r"configuration reloaded")
        self.assertEqual(f.stop(), 0)


if __name__ == "__main__":
    unittest.main()

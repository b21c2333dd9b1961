"""Profiles end to end: chosen with `freezr profile` and PUT /api/v1/profile, kept across a
restart, switched automatically while a process runs or on battery, and shown in the status,
the metrics, the history and the web dashboard."""
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request

from harness import FREEZR, TestCase, monitor, power_supply, rule, wait_until, with_token
from test_dashboard import node

NICE = 13  # the strict profile's renice: not a value anything else on the machine sets


def profiles(burner):
    """A rule on the burner that logs; `quiet` turns it off, `strict` makes it renice."""
    return (rule("burn", [burner], cpu_percent=10, violations=2, action="log") +
            '[profile.quiet]\ndescription = "leave the burner alone"\ndisable = ["burn"]\n'
            '[profile.strict]\ndescription = "renice the burner"\n'
            '[[profile.strict.rule]]\nname = "burn"\naction = "renice"\n'
            f'nice = {NICE}\n')


class ProfileTest(TestCase):
    def status(self):
        with open(os.path.join(self.workdir, "data", "status.json")) as f:
            return json.load(f)

    def cli(self, f, *args):
        return subprocess.run([FREEZR, "--config", f.config_path, "profile", *args],
                              capture_output=True, text=True, cwd=self.workdir, timeout=60)

    def test_freezr_profile_switches_the_rules_and_the_choice_outlives_a_restart(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.3).replace("[monitor]\n", '[monitor]\nprofile = "quiet"\n',
                                                      1) + profiles(hog.name))
        f.wait_for(r"Profile: quiet \(profiles: quiet, strict;")
        f.wait_scans(8)
        self.assertEqual(f.count(rf"rule=burn .*pid={hog.pid}"), 0, f.output())
        self.assertEqual(self.status()["profile"]["name"], "quiet")
        self.assertEqual(self.status()["profile"]["why"], "[monitor] profile")

        r = self.cli(f, "strict")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"FreezR (PID {f.pid}) runs under profile strict (chosen by hand)", r.stdout)
        f.wait_for(r'PROFILE from=quiet to=strict why="chosen by hand"')
        self.assertTrue(wait_until(lambda: hog.nice() == NICE, 20), f.output())
        self.assertEqual(self.status()["profile"]["mode"], "manual")
        with open(os.path.join(self.workdir, "data", "profile.json")) as c:
            self.assertEqual(json.load(c), {"mode": "manual", "profile": "strict"})
        r = self.cli(f)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"strict +true +by hand only +0 +renice the burner")
        self.assertIn("in force: strict (manual: chosen by hand)", r.stdout)

        self.assertEqual(f.stop(), 0)
        self.assertEqual(hog.nice(), 0)  # undone at exit
        with open(f.config_path) as c:
            g = self.freezr(c.read(), raw_config=True)
        g.wait_for(r"Profile: strict \(profiles")
        self.assertTrue(wait_until(lambda: hog.nice() == NICE, 20), g.output())

        # Back to quiet: the rule that reniced is off, so its renice is undone at once.
        r = self.cli(g, "quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        g.wait_for(r"PROFILE from=strict to=quiet")
        self.assertTrue(wait_until(lambda: hog.nice() == 0, 10), g.output())
        g.wait_for(rf"UNDO rule=burn .*pid={hog.pid}.*its rule changed")
        r = self.cli(g, "--off")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("runs under profile none (chosen by hand)", r.stdout)
        g.wait_for(rf"ACTION rule=burn action=log .*pid={hog.pid}")
        self.assertEqual(g.stop(), 0)
        events = subprocess.run([FREEZR, "--config", f.config_path, "events", "--kind",
                                 "lifecycle", "--format", "json"], capture_output=True,
                                text=True, cwd=self.workdir)
        self.assertEqual(events.returncode, 0, events.stderr)
        switches = [e["message"] for e in json.loads(events.stdout) if e["action"] == "profile"]
        self.assertEqual(switches, ["profile quiet → strict: chosen by hand",
                                    "profile strict → quiet: chosen by hand",
                                    "profile quiet → none: chosen by hand"])

    def test_an_unknown_name_a_bad_choice_file_and_no_daemon_are_each_said(self):
        hog = self.hog(cpu=True)
        config = monitor(interval=0.3) + profiles(hog.name)
        os.makedirs(os.path.join(self.workdir, "data"))
        # Chosen while no FreezR runs: kept for its start.
        with open(os.path.join(self.workdir, "freezr.toml"), "w") as c:
            c.write(config)
        r = subprocess.run([FREEZR, "--config", "freezr.toml", "profile", "strict"],
                           capture_output=True, text=True, cwd=self.workdir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("FreezR is not running: profile strict is in force from its next start",
                      r.stdout)
        r = subprocess.run([FREEZR, "--config", "freezr.toml", "profile", "gamming"],
                           capture_output=True, text=True, cwd=self.workdir)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no profile named 'gamming'", r.stderr)
        self.assertIn("(profiles: quiet, strict)", r.stderr)
        r = subprocess.run([FREEZR, "--config", "freezr.toml", "profile", "quiet", "--auto"],
                           capture_output=True, text=True, cwd=self.workdir)
        self.assertEqual(r.returncode, 2)
        f = self.freezr(config)
        f.wait_for(r"Profile: strict")
        self.assertTrue(wait_until(lambda: hog.nice() == NICE, 20), f.output())
        self.assertEqual(f.stop(), 0)
        # A damaged choice: said, and FreezR runs with none.
        with open(os.path.join(self.workdir, "data", "profile.json"), "w") as c:
            c.write('{"mode": "sometimes"')
        f = self.freezr(config)
        f.wait_for(r"profile\.json is not a choice \(.*\); ignored")
        f.wait_for(r"Profile: none")
        f.wait_for(rf"ACTION rule=burn action=log .*pid={hog.pid}")
        # SIGUSR2 with the damaged file: an error, and the profile stays.
        f.signal(signal.SIGUSR2)
        f.wait_for(r"SIGUSR2: the profile choice cannot be read")
        self.assertIsNone(self.status()["profile"]["name"])
        self.assertEqual(f.stop(), 0)
        # A choice of a profile the configuration no longer has.
        with open(os.path.join(self.workdir, "data", "profile.json"), "w") as c:
            c.write('{"mode": "manual", "profile": "gone"}')
        f = self.freezr(config)
        f.wait_for(r"chooses 'gone', which the configuration does not have")
        self.assertEqual(f.stop(), 0)

    def test_put_needs_the_token_and_the_metrics_show_the_profile(self):
        hog = self.hog(cpu=True)
        token, config = with_token(self.workdir, monitor(interval=0.3))
        f = self.freezr(config + profiles(hog.name))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        url = f"http://127.0.0.1:{port}/api/v1/profile"

        def put(body, auth=True):
            req = urllib.request.Request(url, data=json.dumps(body).encode(), method="PUT",
                                         headers={"Authorization": f"Bearer {token}"} if auth
                                         else {})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    return r.status, json.load(r)
            except urllib.error.HTTPError as e:
                return e.code, json.load(e)

        with urllib.request.urlopen(url, timeout=10) as r:
            got = json.load(r)
        self.assertEqual((got["name"], got["mode"]), (None, "auto"))
        self.assertEqual([p["name"] for p in got["profiles"]], ["quiet", "strict"])
        self.assertEqual(put({"profile": "strict"}, auth=False)[0], 401)
        self.assertEqual(put({"profile": "nope"}), (404, {"error": "no profile named 'nope' "
                                                                  "(profiles: quiet, strict)"}))
        self.assertEqual(put({"profile": 7})[0], 400)
        status, body = put({"profile": "strict"})
        self.assertEqual((status, body["name"], body["mode"]), (200, "strict", "manual"))
        self.assertTrue(wait_until(lambda: hog.nice() == NICE, 20), f.output())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        self.assertIn('freezr_profile_active{profile="strict"} 1\n', metrics)
        self.assertIn('freezr_profile_active{profile="quiet"} 0\n', metrics)
        self.assertIn("freezr_profile_manual 1\n", metrics)
        self.assertIn("freezr_profile_switches_total 1\n", metrics)
        status, body = put({"mode": "auto"})
        self.assertEqual((status, body["name"], body["mode"]), (200, None, "auto"))
        self.assertTrue(wait_until(lambda: hog.nice() == 0, 10), f.output())
        f.stop()

    def test_a_profile_follows_a_named_process_while_it_runs(self):
        burner = self.hog(cpu=True)
        game = self.hog()  # its name is the condition
        f = self.freezr(monitor(interval=0.3) + profiles(burner.name) +
                        f'[profile.strict.when]\nrunning = {{ comm = ["{game.name}"] }}\n')
        f.wait_for(rf'PROFILE from=none to=strict why="{game.name} \(PID {game.pid}\) runs"')
        self.assertTrue(wait_until(lambda: burner.nice() == NICE, 20), f.output())
        self.assertEqual(self.status()["profile"]["mode"], "auto")
        game.stop()
        f.wait_for(r'PROFILE from=strict to=none why="no profile chosen"')
        self.assertTrue(wait_until(lambda: burner.nice() == 0, 10), f.output())
        # Started again after FreezR: seen at its exec, not only at a full sweep.
        again = self.hog(name=game.name)
        f.wait_for(rf'PROFILE from=none to=strict why="{game.name} \(PID {again.pid}\) runs"')
        f.stop()

    def test_a_reload_that_drops_the_chosen_profile_returns_to_the_automatic_choice(self):
        burner = self.hog(cpu=True)
        game = self.hog()
        automatic = f'[profile.strict.when]\nrunning = {{ comm = ["{game.name}"] }}\n'
        f = self.freezr(monitor(interval=0.3) + profiles(burner.name) + automatic)
        f.wait_for(r"PROFILE from=none to=strict")
        r = self.cli(f, "quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        f.wait_for(r'PROFILE from=strict to=quiet why="chosen by hand"')
        # The configuration loses quiet: the choice by hand no longer stands.
        with open(f.config_path) as c:
            text = c.read()
        text = text.replace('[profile.quiet]\ndescription = "leave the burner alone"\n'
                            'disable = ["burn"]\n', "")
        with open(f.config_path, "w") as c:
            c.write(text)
        f.signal(signal.SIGHUP)
        f.wait_for(r"configuration reloaded")
        f.wait_for(rf'PROFILE from=quiet to=strict why="{game.name} \(PID {game.pid}\) runs"')
        self.assertTrue(wait_until(lambda: burner.nice() == NICE, 20), f.output())
        self.assertEqual(f.stop(), 0)

    def test_a_profile_follows_the_power_supply(self):
        burner = self.hog(cpu=True)
        sys_root, online = power_supply(self.workdir)
        f = self.freezr(monitor(interval=0.3) + profiles(burner.name) +
                        '[profile.strict.when]\non_battery = true\n', args=("--sys-root", sys_root))
        f.wait_for(r"Profile: none")
        f.wait_scans(3)
        self.assertIs(self.status()["profile"]["on_battery"], False)
        with open(online, "w") as out:
            out.write("0\n")
        f.wait_for(r'PROFILE from=none to=strict why="on battery"', timeout=40)
        self.assertTrue(wait_until(lambda: burner.nice() == NICE, 20), f.output())
        with open(online, "w") as out:
            out.write("1\n")
        f.wait_for(r'PROFILE from=strict to=none', timeout=40)
        f.stop()

    def test_the_dashboard_shows_the_profile_and_switches_it(self):
        hog = self.hog(cpu=True)
        token, config = with_token(self.workdir, monitor(interval=0.3))
        f = self.freezr(config + profiles(hog.name))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        rc, result = node("profile.cjs", f"http://127.0.0.1:{port}/", token, "strict")
        self.assertEqual(rc, 0, result)
        self.assertEqual(result["errors"], [])
        self.assertEqual(result["before"], "profile: none (auto)")
        self.assertFalse(result["pickerBefore"])  # no token, no choice offered
        self.assertEqual(result["offered"], ["", "quiet", "strict", "auto"])
        self.assertEqual(result["after"], "profile: strict (manual)")
        self.assertEqual(result["message"], "profile: strict (manual)")
        f.wait_for(r'PROFILE from=none to=strict why="chosen by hand"')
        self.assertTrue(wait_until(lambda: hog.nice() == NICE, 20), f.output())
        f.stop()

"""The exec action and before/after hooks in a real daemon: the facts in the environment, the
outcome recorded (a failure as failed), the action waiting for its before hook, a hook's
timeout."""
import json
import os
import re
import stat
import subprocess
import urllib.request

from harness import FREEZR, TestCase, monitor, wait_until


def toml_list(items):
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


class CommandsTest(TestCase):
    def script(self, name, body):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(path, stat.S_IRWXU)
        return path

    def env_of(self, path):
        with open(path) as f:
            return dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)

    def test_exec_gets_the_facts_and_its_failure_is_recorded_as_failed(self):
        hog = self.hog(cpu=True)
        facts = os.path.join(self.workdir, "facts")
        good = self.script("good.sh", f'env | grep ^FREEZR_ > "{facts}"\necho "told $1"\n')
        bad = self.script("bad.sh", 'echo "no receiver" >&2\nexit 3\n')
        f = self.freezr(monitor(interval=0.3) +
                        "[[rule]]\nname = \"tell\"\n"
                        f"match = {{ comm = [\"{hog.name}\"] }}\n"
                        "[[rule.steps]]\ncpu_percent = 10\nviolations = 2\naction = \"exec\"\n"
                        f"command = {toml_list([good, 'the admin'])}\ncooldown = 3600\n"
                        "[[rule]]\nname = \"broken\"\n"
                        f"match = {{ comm = [\"{hog.name}\"] }}\n"
                        "[[rule.steps]]\ncpu_percent = 10\nviolations = 2\naction = \"exec\"\n"
                        f"command = {toml_list([bad])}\ncooldown = 3600\n")
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        f.wait_for(r"rule=tell action=exec .*pid=%d .*exit 0 in [\d.]+ s: told the admin" % hog.pid)
        f.wait_for(r"rule=broken action=exec .*pid=%d .*exit 3 in [\d.]+ s: no receiver" % hog.pid)
        env = self.env_of(facts)
        self.assertEqual(env["FREEZR_RULE"], "tell")
        self.assertEqual(env["FREEZR_PID"], str(hog.pid))
        self.assertEqual(env["FREEZR_COMM"], hog.name)
        self.assertEqual(env["FREEZR_ACTION"], "exec")
        self.assertEqual(env["FREEZR_METRIC"], "cpu")
        self.assertEqual(env["FREEZR_THRESHOLD"], "10")
        self.assertGreater(float(env["FREEZR_VALUE"]), 10)
        self.assertRegex(env["FREEZR_REASON"], r"^cpu [\d.]+% > 10(\.0)?% for 2 scans$")
        def metrics():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return r.read().decode()
        failed = re.compile(r'freezr_actions_total\{rule="broken",action="exec",'
                            r'outcome="failed"\} 1\n')
        self.assertTrue(wait_until(lambda: failed.search(metrics()), 10), metrics())
        self.assertRegex(metrics(), r'freezr_actions_total\{rule="tell",action="exec",'
                                    r'outcome="ok"\} 1\n')
        self.assertTrue(hog.alive())  # exec runs a command; it does not touch the process
        f.stop()
        r = subprocess.run([FREEZR, "events", "--config", f.config_path, "--since", "10m",
                            "--kind", "action", "--format", "json"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        broken = [e for e in json.loads(r.stdout) if e["rule"] == "broken"]
        self.assertEqual([e["ok"] for e in broken], [False], broken)
        self.assertIn("exit 3", broken[0]["message"])

    def test_the_kill_waits_for_its_before_hook_and_the_after_hook_gets_the_outcome(self):
        hog = self.hog(cpu=True)
        before_out = os.path.join(self.workdir, "before")
        after_out = os.path.join(self.workdir, "after")
        # The before hook sees the process alive, and the kill comes only after it ends.
        before = self.script("before.sh", f'kill -0 "$FREEZR_PID" && echo alive > "{before_out}"\n'
                                          f'echo "pids=$FREEZR_PIDS" >> "{before_out}"\n')
        after = self.script("after.sh", f'env | grep ^FREEZR_ > "{after_out}"\n')
        f = self.freezr(monitor(interval=0.3) +
                        "[[rule]]\nname = \"stop\"\n"
                        f"match = {{ comm = [\"{hog.name}\"] }}\n"
                        "[[rule.steps]]\ncpu_percent = 10\nviolations = 2\naction = \"kill\"\n"
                        f"before = {toml_list([before])}\nafter = {toml_list([after])}\n")
        f.wait_for(r"before hook of kill .*before\.sh: exit 0")
        self.assertTrue(wait_until(lambda: not hog.alive(), 15), f.output())
        f.wait_for(r"after hook of kill .*after\.sh: exit 0")
        with open(before_out) as b:
            self.assertEqual(b.read(), f"alive\npids={hog.pid}\n")
        env = self.env_of(after_out)
        self.assertEqual(env["FREEZR_OK"], "1")
        self.assertEqual(env["FREEZR_PID"], str(hog.pid))
        self.assertRegex(env["FREEZR_DETAIL"], r"exited .* after SIGTERM")
        f.stop()

    def test_exec_as_another_user_keeps_the_capabilities_it_needs(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to run a command as another user")
        import pwd
        nobody = pwd.getpwnam("nobody")
        hog = self.hog(cpu=True)
        out_dir = os.path.join(self.workdir, "out")
        os.mkdir(out_dir)
        os.chmod(out_dir, 0o777)
        os.chmod(self.workdir, 0o755)
        who = self.script("who.sh", f'id -u > "{out_dir}/who"\n')
        os.chmod(who, 0o755)
        f = self.freezr(monitor(interval=0.3) +
                        "[[rule]]\nname = \"as\"\n"
                        f"match = {{ comm = [\"{hog.name}\"] }}\n"
                        "[[rule.steps]]\ncpu_percent = 10\nviolations = 2\naction = \"exec\"\n"
                        f"command = {toml_list([who])}\nuser = \"nobody\"\ncooldown = 3600\n")
        f.wait_for(r"PREFLIGHT check=capabilities ok=true: dropped to the ones FreezR needs: "
                   r".*CAP_SETUID, CAP_SETGID")
        f.wait_for(r"rule=as action=exec .*exit 0 in")
        with open(os.path.join(out_dir, "who")) as w:
            self.assertEqual(w.read().strip(), str(nobody.pw_uid))
        f.stop()

    def test_a_hook_past_its_timeout_is_killed_and_the_action_goes_on(self):
        hog = self.hog(cpu=True)
        spin = self.script("spin.sh", "while :; do :; done\n")
        f = self.freezr(monitor(interval=0.3) +
                        "[[rule]]\nname = \"slow\"\n"
                        f"match = {{ comm = [\"{hog.name}\"] }}\n"
                        "[[rule.steps]]\ncpu_percent = 10\nviolations = 2\naction = \"kill\"\n"
                        f"before = {toml_list([spin])}\ntimeout = 0.5\n")
        line = f.wait_for(r"warning.*before hook of kill .*spin\.sh: timed out after ([\d.]+) s: "
                          r"killed")
        self.assertGreaterEqual(float(line.group(1)), 0.5)
        self.assertTrue(wait_until(lambda: not hog.alive(), 15), f.output())
        # Nothing of the hook is left running.
        left = subprocess.run(["pgrep", "-f", spin], capture_output=True, text=True)
        self.assertEqual(left.stdout, "")
        self.assertEqual(f.stop(), 0)

"""Webhooks against a loopback receiver the test runs: one POST per notice with the documented
body and the headers file's headers; while the receiver is down FreezR scans on and retries,
and once it is back the queued notices arrive. Desktop notifications through logind to a
session's notification server, whose "Thaw now" thaws the process."""
import json
import os
import socket
import subprocess
import time

from harness import FAKE_DESKTOP, Receiver, TestCase, cgroup_text, monitor, rule, wait_until


class WebhookTest(TestCase):
    def test_notices_arrive_documented_and_survive_a_receiver_outage(self):
        first, second = self.hog(cpu=True), self.hog(cpu=True)
        receiver = Receiver()
        headers = os.path.join(self.workdir, "headers")
        with open(headers, "w") as h:
            h.write("# secrets\nAuthorization: Bearer s3cret\n\nX-Fleet: lab\n")
        os.chmod(headers, 0o600)
        url = f"http://127.0.0.1:{receiver.port}"
        f = self.freezr(
            monitor(interval=0.3) +
            f'[[notify.webhook]]\nurl = "{url}/hook"\nevents = ["action", "lifecycle"]\n'
            f'headers_file = "{headers}"\ntimeout = 2\n'
            f'[[notify.webhook]]\nurl = "{url}/ntfy"\nformat = "ntfy"\nevents = ["action"]\n' +
            rule("first", [first.name], cpu_percent=10, violations=2, action="kill") +
            rule("second", [second.name], cpu_percent=10, violations=100000, action="kill"))
        f.wait_for(r"PREFLIGHT check=notify ok=true: 2 webhook\(s\)")
        self.assertTrue(wait_until(lambda: not first.alive(), 15), f.output())

        def kills(name, on=None):
            return [b for b in (on or receiver).bodies("/hook")
                    if b["kind"] == "action" and b["name"] == name]
        self.assertTrue(wait_until(lambda: kills(first.name), 15), receiver.requests)
        body = kills(first.name)[0]
        self.assertEqual(set(body), {"version", "source", "host", "ts", "time", "kind",
                                     "severity", "rule", "action", "ok", "dry_run", "pid", "name",
                                     "service", "reason", "detail", "title", "message"})
        self.assertEqual((body["version"], body["source"], body["rule"], body["action"]),
                         (1, "freezr", "first", "kill"))
        self.assertEqual((body["ok"], body["dry_run"], body["pid"]), (True, False, first.pid))
        self.assertEqual(body["severity"], "warning")
        self.assertEqual(body["title"], f"{first.name} was killed")
        self.assertRegex(body["message"], rf"^{first.name} was killed \(pid {first.pid}\): cpu "
                                          r"[\d.]+% > 10(\.0)?% for 2 scans$")
        self.assertRegex(body["detail"], r"exited .* after SIGTERM")
        self.assertEqual(body["host"], socket.gethostname())
        starts = [b for b in receiver.bodies("/hook") if b["kind"] == "lifecycle"]
        self.assertEqual(starts[0]["action"], "start")
        sent = [h for p, h, _ in receiver.requests if p == "/hook"][0]
        self.assertEqual(sent["Authorization"], "Bearer s3cret")
        self.assertEqual(sent["X-Fleet"], "lab")
        self.assertEqual(sent["Content-Type"], "application/json")
        # Each webhook has its own sender: the ntfy copy may arrive a moment after the other.
        def ntfy_requests():
            return [(h, b) for p, h, b in receiver.requests if p == "/ntfy"]
        self.assertTrue(wait_until(ntfy_requests, 15), receiver.requests)
        ntfy = ntfy_requests()
        self.assertEqual(ntfy[0][0]["Title"], f"FreezR: {first.name} was killed")
        self.assertEqual(ntfy[0][0]["Priority"], "4")
        self.assertEqual(ntfy[0][0]["Tags"], "freezr,action")
        self.assertNotIn("Authorization", ntfy[0][0])  # the headers file is the other hook's
        self.assertTrue(ntfy[0][1].startswith(f"{first.name} was killed (pid {first.pid})"))

        # The receiver goes away: FreezR says so once, scans on, and keeps the notice.
        port = receiver.port
        receiver.close()
        with open(f.config_path) as c:
            text = c.read()
        with open(f.config_path, "w") as c:
            c.write(text.replace("violations = 100000", "violations = 2"))
        f.signal(__import__("signal").SIGHUP)
        self.assertTrue(wait_until(lambda: not second.alive(), 15), f.output())
        f.wait_for(rf"webhook {url}/hook failed \(.*\); notices are queued")
        scans = f.scans()
        f.wait_scans(scans + 5)
        self.assertEqual(f.count(rf"webhook {url}/hook failed"), 1)
        back = Receiver(port)
        try:
            self.assertTrue(wait_until(lambda: kills(second.name, back), 40), f.output())
            f.wait_for(rf"webhook {url}/hook answers again")
            self.assertEqual(len(kills(second.name, back)), 1)
        finally:
            f.stop()
            back.close()


class DesktopTest(TestCase):
    """A stand-in logind on a private system bus lists one graphical session of root's; its
    session bus has a notification server that records what it is asked to show."""

    def setUp(self):
        super().setUp()
        self.daemons = []
        self.system = os.path.join(self.workdir, "system_bus")
        self.runtime = os.path.join(self.workdir, "run")
        os.makedirs(os.path.join(self.runtime, "0"))
        self.session = os.path.join(self.runtime, "0", "bus")
        for socket_path in (self.system, self.session):
            self.daemons.append(subprocess.Popen(
                ["dbus-daemon", "--session", "--nofork", "--nopidfile",
                 f"--address=unix:path={socket_path}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            self.assertTrue(wait_until(lambda p=socket_path: os.path.exists(p), 10))
        self.shown = os.path.join(self.workdir, "shown.jsonl")
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={self.system}",
                   DBUS_SESSION_BUS_ADDRESS=f"unix:path={self.session}")
        for args in (["login1", "0"], ["notifications", self.shown]):
            fake = subprocess.Popen([FAKE_DESKTOP, *args], env=env, stdout=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL)
            self.daemons.append(fake)
            self.assertEqual(fake.stdout.readline(), b"ready\n")

    def tearDown(self):
        super().tearDown()
        for p in reversed(self.daemons):
            p.kill()
            p.wait()
            if p.stdout is not None:
                p.stdout.close()

    def freezing(self, hog):
        """A FreezR with desktop notifications that freezes hog for 300 s."""
        return self.freezr(monitor(interval=0.3) +
                           f'[notify]\ndesktop = true\ndesktop_runtime_dir = "{self.runtime}"\n' +
                           rule("ice", [hog.name], cpu_percent=10, violations=2,
                                action="freeze", duration=300),
                           env={"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={self.system}"})

    def notifications(self):
        if not os.path.exists(self.shown):
            return []
        with open(self.shown) as f:
            return [json.loads(l) for l in f]

    def test_a_freeze_is_shown_to_the_session_and_its_button_thaws_the_process(self):
        hog = self.hog(cpu=True)
        f = self.freezing(hog)
        f.wait_for(rf"pid={hog.pid} .*frozen for 300s")
        self.assertTrue(wait_until(self.notifications, 15), f.output())
        shown = self.notifications()[0]
        self.assertEqual(shown["app"], "FreezR")
        self.assertEqual(shown["summary"], f"{hog.name} was frozen for 300 s")
        self.assertRegex(shown["body"], r"^Rule ice: cpu [\d.]+% > 10(\.0)?% for 2 scans$")
        self.assertEqual(shown["icon"], "dialog-warning")
        self.assertEqual(shown["urgency"], 1)
        self.assertEqual(shown["actions"], ["thaw", "Thaw now"])
        # The user presses "Thaw now": the server says so on the bus, FreezR thaws.
        subprocess.run(["busctl", f"--address=unix:path={self.session}", "call",
                        "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                        "org.freedesktop.Notifications", "Press", "us", str(shown["id"]),
                        "thaw"], check=True, capture_output=True)
        f.wait_for(rf'root chose "Thaw now" for pid {hog.pid}: thawed')

        self.assertTrue(wait_until(lambda: hog.state() not in "Tt" and
                                   "/freezr/" not in cgroup_text(hog.pid),
                                   10), f.output())
        self.assertEqual(f.stop(), 0)

    def test_stopping_does_not_wait_for_a_notification_waiting_for_its_button(self):
        hog = self.hog(cpu=True)
        f = self.freezing(hog)
        self.assertTrue(wait_until(self.notifications, 15), f.output())
        started = time.monotonic()
        self.assertEqual(f.stop(), 0)
        self.assertLess(time.monotonic() - started, 8, f.output())
        # The process is thawed by the stop, and no notification command is left behind.
        self.assertTrue(wait_until(lambda: hog.state() not in "Tt", 5))
        left = subprocess.run(["pgrep", "-f", "desktop-notify --summary " + hog.name],
                              capture_output=True, text=True)
        self.assertEqual(left.stdout, "")

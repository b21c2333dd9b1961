"""Webhooks against a loopback receiver the test runs: one POST per notice with the documented
body and the headers file's headers; while the receiver is down FreezR scans on and retries,
and once it is back the queued notices arrive."""
import json
import os
import socket

from harness import Receiver, TestCase, monitor, rule, wait_until


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
        ntfy = [(h, b) for p, h, b in receiver.requests if p == "/ntfy"]
        self.assertTrue(ntfy)
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

"""A real Prometheus scrapes FreezR and a real Alertmanager delivers its alerts; the alert rules
and the Grafana dashboard are checked."""
import json
import os
import re
import signal
import socket
import subprocess
import time
import unittest
import urllib.parse
import urllib.request

from harness import Receiver, TestCase, monitor, rule, wait_until

SOURCE = os.environ.get("FREEZR_SOURCE_DIR", "../..")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    """A real Prometheus scraping FreezR at port (and sending alerts to alertmanager_port),
    evaluating the shipped alert rules every second; stopped by PID."""

    def __init__(self, workdir, port, alertmanager_port=None):
        self.port = free_port()
        config = os.path.join(workdir, "prometheus.yml")
        alerting = ("" if alertmanager_port is None else
                    "alerting:\n  alertmanagers:\n    - static_configs:\n"
                    f"        - targets: ['127.0.0.1:{alertmanager_port}']\n")
        with open(config, "w") as c:
            c.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "rule_files:\n  - " + os.path.join(SOURCE, "packaging/prometheus/alerts.yml") +
                    "\n" + alerting + "scrape_configs:\n  - job_name: freezr\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{port}']\n")
        self.process = subprocess.Popen(
            ["prometheus", f"--config.file={config}",
             f"--storage.tsdb.path={os.path.join(workdir, 'tsdb')}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def query(self, expr):
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?" +
               urllib.parse.urlencode({"query": expr}))
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return json.load(r)["data"]["result"]
        except OSError:
            return []

    def stop(self):
        self.process.kill()
        self.process.wait()


class PrometheusTest(TestCase):
    def test_prometheus_scrapes_freezr_and_sees_the_hog(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.5) +
                        rule("hog", [hog.name], cpu_percent=10, violations=100000, action="log"))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        prom = Prometheus(self.workdir, port)
        query = prom.query
        try:
            hog_cpu = f'freezr_rule_cpu_percent{{rule="hog",job="freezr"}}'
            self.assertTrue(wait_until(lambda: query(hog_cpu), 30), "no series in Prometheus")
            value = float(query(hog_cpu)[0]["value"][1])
            # Against what the hog really gets here (on a busy machine, far less than a core).
            got = hog.cpu_percent_over(2.0)
            self.assertGreater(value, min(5.0, got / 3), f"hog got {got:.1f}% meanwhile")
            self.assertLess(value, 250)
            self.assertEqual(query('up{job="freezr"}')[0]["value"][1], "1")
            procs = query('freezr_rule_processes{rule="hog"}')
            self.assertEqual(procs[0]["value"][1], "1")
            self.assertTrue(query("freezr_scans_total > 1"))
            self.assertTrue(query("freezr_self_resident_memory_bytes > 0"))
            self.assertTrue(query('process_resident_memory_bytes{job="freezr"} > 0'))
        finally:
            prom.stop()
        f.stop()


class AlertingTest(TestCase):
    def test_alertmanager_delivers_the_first_kill(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.5) +
                        rule("hog", [hog.name], cpu_percent=10, violations=100000, action="kill"))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        receiver = Receiver()
        am_port = free_port()
        am_config = os.path.join(self.workdir, "alertmanager.yml")
        with open(am_config, "w") as c:
            c.write("route:\n  receiver: test\n  group_by: [alertname, rule]\n  group_wait: 1s\n"
                    "  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: test\n"
                    "    webhook_configs:\n"
                    f"      - url: http://127.0.0.1:{receiver.port}/alerts\n")
        am = subprocess.Popen(
            ["prometheus-alertmanager", f"--config.file={am_config}",
             f"--storage.path={os.path.join(self.workdir, 'am')}",
             f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        prom = Prometheus(self.workdir, port, am_port)
        query = prom.query
        try:
            # Before any kill, the kill series is there at 0 ...
            kills = 'freezr_actions_total{rule="hog",action="kill",outcome="ok"}'
            self.assertTrue(wait_until(lambda: len(query(f"{kills}[10s]")) == 1 and
                                       len(query(f"{kills}[10s]")[0]["values"]) >= 3, 60),
                            "no zero series in Prometheus")
            self.assertEqual(query(kills)[0]["value"][1], "0")
            self.assertEqual(receiver.requests, [])
            # ... so the first kill is an increase, and the alert reaches the receiver.
            with open(f.config_path) as c:
                text = c.read()
            with open(f.config_path, "w") as c:
                c.write(text.replace("violations = 100000", "violations = 2"))
            f.signal(signal.SIGHUP)
            self.assertTrue(wait_until(lambda: not hog.alive(), 20), f.output())

            def delivered():
                return [a for b in receiver.bodies() for a in b["alerts"]
                        if a["labels"]["alertname"] == "FreezRKilledProcess"]
            self.assertTrue(wait_until(delivered, 60), receiver.requests)
            alert = delivered()[0]
            self.assertEqual(alert["status"], "firing")
            self.assertEqual(alert["labels"]["rule"], "hog")
            self.assertEqual(alert["labels"]["severity"], "warning")
            self.assertEqual(alert["annotations"]["summary"],
                             f"FreezR killed a process under rule hog on 127.0.0.1:{port}")
            self.assertTrue(alert["annotations"]["runbook_url"].endswith("#freezrkilledprocess"))
        finally:
            prom.stop()
            am.kill()
            am.wait()
            receiver.close()
        f.stop()


class PackagingTest(TestCase):
    def test_alert_rules_pass_promtool(self):
        r = subprocess.run(["promtool", "check", "rules",
                            os.path.join(SOURCE, "packaging/prometheus/alerts.yml")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS: 9 rules found", r.stdout)

    def test_every_alert_has_a_unit_test_that_passes_and_a_runbook_section(self):
        prom = os.path.join(SOURCE, "packaging", "prometheus")
        r = subprocess.run(["promtool", "test", "rules", "alerts_test.yml"], capture_output=True,
                           text=True, cwd=prom)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)
        with open(os.path.join(prom, "alerts.yml")) as f:
            alerts = re.findall(r"^      - alert: (\w+)$", f.read(), re.M)
        with open(os.path.join(prom, "alerts_test.yml")) as f:
            tested = set(re.findall(r"alertname: (\w+)", f.read()))
        with open(os.path.join(SOURCE, "docs", "runbook.md")) as f:
            sections = set(re.findall(r"^## (\w+)$", f.read(), re.M))
        self.assertEqual(len(alerts), 9)
        self.assertEqual(set(alerts) - tested, set(), "alerts without a test")
        self.assertEqual(set(alerts) - sections, set(), "alerts without a runbook section")
        with open(os.path.join(prom, "alerts.yml")) as f:
            for name, url in re.findall(r"- alert: (\w+)\n(?:.*\n)*?.*runbook_url: \"([^\"]+)\"",
                                        f.read()):
                self.assertTrue(url.endswith("docs/runbook.md#" + name.lower()), (name, url))

    def test_grafana_dashboard_queries_only_metrics_freezr_exports(self):
        with open(os.path.join(SOURCE, "packaging/grafana/freezr.json")) as f:
            dash = json.load(f)
        exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
        exprs += [v["query"] for v in dash["templating"]["list"]]
        exprs += [a["expr"] for a in dash["annotations"]["list"] if "expr" in a]
        names = set()
        for e in exprs:
            names.update(re.sub(r"_(bucket|sum|count)$", "", n)
                         for n in re.findall(r"\b((?:freezr|process)_[a-z0-9_]+)", e))
        self.assertGreater(len(names), 12)
        # It imports cleanly: panel ids unique, one declared input for every data source.
        ids = [p["id"] for p in dash["panels"]]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual([i["name"] for i in dash["__inputs"]], ["DS_PROMETHEUS"])
        sources = {json.dumps(p["datasource"]) for p in dash["panels"]}
        self.assertEqual(sources, {json.dumps({"type": "prometheus", "uid": "${DS_PROMETHEUS}"})})
        titles = {p["title"] for p in dash["panels"]}
        self.assertTrue({"Memory pressure", "Predictions", "Leaks"} <= titles, titles)
        self.assertIn("Kills", [a["name"] for a in dash["annotations"]["list"]])
        # The families a running FreezR exposes.
        f = self.freezr(monitor(interval=0.2) + rule("x", ["fzxnever"], cpu_percent=10))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        wait_until(lambda: f.count("single instance") > 0, 5)
        time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            exported = set(re.findall(r"^# TYPE ((?:freezr|process)_[a-z0-9_]+)",
                                      r.read().decode(), re.M))
        f.stop()
        self.assertTrue(names <= exported, names - exported)
        with open(os.path.join(SOURCE, "packaging/prometheus/alerts.yml")) as f:
            alert_names = set(re.findall(r"\b(freezr_[a-z0-9_]+)", f.read()))
        self.assertTrue(alert_names <= exported, alert_names - exported)


if __name__ == "__main__":
    unittest.main()

"""A real Prometheus scrapes FreezR; the alert rules and the Grafana dashboard are checked."""
import json
import os
import re
import socket
import subprocess
import time
import unittest
import urllib.parse
import urllib.request

from harness import TestCase, monitor, rule, wait_until

SOURCE = os.environ.get("FREEZR_SOURCE_DIR", "../..")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrometheusTest(TestCase):
    def test_prometheus_scrapes_freezr_and_sees_the_hog(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.5) +
                        rule("hog", [hog.name], cpu_percent=10, violations=100000, action="log"))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        prom_port = free_port()
        config = os.path.join(self.workdir, "prometheus.yml")
        with open(config, "w") as c:
            c.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "rule_files:\n  - " + os.path.join(SOURCE, "packaging/prometheus/alerts.yml") +
                    "\nscrape_configs:\n  - job_name: freezr\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{port}']\n")
        prom = subprocess.Popen(
            ["prometheus", f"--config.file={config}",
             f"--storage.tsdb.path={os.path.join(self.workdir, 'tsdb')}",
             f"--web.listen-address=127.0.0.1:{prom_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            def query(expr):
                url = (f"http://127.0.0.1:{prom_port}/api/v1/query?" +
                       urllib.parse.urlencode({"query": expr}))
                try:
                    with urllib.request.urlopen(url, timeout=2) as r:
                        return json.load(r)["data"]["result"]
                except OSError:
                    return []
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
        finally:
            prom.kill()
            prom.wait()
        f.stop()


class PackagingTest(TestCase):
    def test_alert_rules_pass_promtool(self):
        r = subprocess.run(["promtool", "check", "rules",
                            os.path.join(SOURCE, "packaging/prometheus/alerts.yml")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS: 4 rules found", r.stdout)

    def test_grafana_dashboard_queries_only_metrics_freezr_exports(self):
        with open(os.path.join(SOURCE, "packaging/grafana/freezr.json")) as f:
            dash = json.load(f)
        exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
        exprs.append(dash["templating"]["list"][1]["query"])
        names = set()
        for e in exprs:
            names.update(re.findall(r"\b(freezr_[a-z0-9_]+)", e))
        self.assertGreater(len(names), 8)
        # The families a running FreezR exposes.
        f = self.freezr(monitor(interval=0.2) + rule("x", ["fzxnever"], cpu_percent=10))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        wait_until(lambda: f.count("single instance") > 0, 5)
        time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            exported = set(re.findall(r"^# TYPE (freezr_[a-z0-9_]+)", r.read().decode(), re.M))
        f.stop()
        self.assertTrue(names <= exported, names - exported)
        with open(os.path.join(SOURCE, "packaging/prometheus/alerts.yml")) as f:
            alert_names = set(re.findall(r"\b(freezr_[a-z0-9_]+)", f.read()))
        self.assertTrue(alert_names <= exported, alert_names - exported)


if __name__ == "__main__":
    unittest.main()

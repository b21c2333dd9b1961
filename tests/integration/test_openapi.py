"""The OpenAPI description FreezR serves, checked against its real answers."""
import json
import os
import re
import urllib.error
import urllib.request

import jsonschema

from harness import SOURCE_DIR, TestCase, monitor, rule, wait_until


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def inline(node, components):
    """node with every {"$ref": "#/components/schemas/X"} replaced by X itself."""
    if isinstance(node, dict):
        if set(node) == {"$ref"}:
            return inline(components[node["$ref"].rsplit("/", 1)[1]], components)
        return {k: inline(v, components) for k, v in node.items()}
    if isinstance(node, list):
        return [inline(v, components) for v in node]
    return node


class OpenApiTest(TestCase):
    def test_every_documented_answer_matches_its_schema(self):
        hog = self.hog(cpu=True)
        f = self.freezr(monitor(interval=0.2) +
                        rule("hog", [hog.name], cpu_percent=10, violations=2, action="kill"))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        self.assertTrue(wait_until(lambda: not hog.alive(), 15), f.output())
        f.wait_scans(3)
        status, ctype, body = get(port, "/api/v1/openapi.json")
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("application/json"))
        doc = json.loads(body)
        self.assertEqual(doc["openapi"], "3.1.0")
        self.assertRegex(doc["info"]["version"], r"^\d+\.\d+\.\d+$")
        schemas = doc["components"]["schemas"]
        queries = {"/api/v1/why": f"?pid={hog.pid}", "/api/v1/events": "?since=10m&limit=5",
                   "/api/v1/history": "?since=10m&limit=3", "/api/v1/processes": "?limit=3"}
        checked = 0
        for path, item in doc["paths"].items():
            if "get" not in item:
                continue
            status, ctype, body = get(port, path + queries.get(path, ""))
            self.assertEqual(status, 200, (path, body))
            content = item["get"]["responses"]["200"]["content"]
            if "application/json" not in content:
                self.assertIn("text/plain", ctype)
                continue
            schema = inline(content["application/json"]["schema"], schemas)
            jsonschema.validate(json.loads(body), schema)
            checked += 1
        self.assertGreaterEqual(checked, 10)
        # A page with a next cursor, and errors in the one documented shape.
        page = json.loads(get(port, "/api/v1/history?since=10m&limit=1")[2])
        self.assertIsNotNone(page["next"])
        error = inline({"$ref": "#/components/schemas/Error"}, schemas)
        for path, code in (("/api/v1/events?limit=abc", 400), ("/api/v1/why", 400),
                           ("/nowhere", 404), ("/api/v1/history?order=sideways", 400)):
            status, _, body = get(port, path)
            self.assertEqual(status, code, path)
            jsonschema.validate(json.loads(body), error)
        # The decision that killed the hog is described by the Event schema, data included.
        why = json.loads(get(port, f"/api/v1/why?pid={hog.pid}")[2])
        self.assertTrue(any(e["kind"] == "decision" for e in why["entries"]), why)
        self.assertEqual(f.stop(), 0)

    def test_every_route_is_described(self):
        f = self.freezr(monitor() + rule("r", ["fz-no-such"], cpu_percent=90))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        f.wait_scans(1)
        paths = set(json.loads(get(port, "/api/v1/openapi.json")[2])["paths"])
        routes = {"/healthz", "/metrics", "/api/v1/status", "/api/v1/rules", "/api/v1/processes",
                  "/api/v1/predictions", "/api/v1/frozen", "/api/v1/events", "/api/v1/why",
                  "/api/v1/history", "/api/v1/history/system", "/api/v1/thaw", "/api/v1/reload",
                  "/api/v1/openapi.json", "/api/v1/profile"}
        self.assertEqual(paths, routes)
        for path in routes - {"/api/v1/thaw", "/api/v1/reload"}:
            self.assertNotEqual(get(port, path)[0], 404, path)
        self.assertEqual(f.stop(), 0)

    def test_the_guide_names_every_path_and_every_metric(self):
        with open(os.path.join(SOURCE_DIR, "docs", "guide", "api-and-metrics.md")) as g:
            guide = g.read()
        top = monitor().replace('listen = "127.0.0.1:0"\n',
                                'listen = "127.0.0.1:0"\nper_process_metrics = 3\n')
        f = self.freezr(top + rule("r", ["fz-no-such"], cpu_percent=90))
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        f.wait_scans(2)
        spec = json.loads(get(port, "/api/v1/openapi.json")[2])
        for path, methods in spec["paths"].items():
            for method in methods:
                if method in ("get", "put", "post"):
                    self.assertIn(f"`{method.upper()} {path}`", guide)
        status, _, text = get(port, "/metrics")
        self.assertEqual(status, 200)
        served = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
        # And those that appear only with a leak, a profile, a thermal section or per-process
        # series: every name the exporter can write.
        with open(os.path.join(SOURCE_DIR, "src", "serve", "metrics.cpp")) as m:
            written = set(re.findall(r"\b(freezr_[a-z0-9_]+)", m.read()))
        self.assertGreater(len(served), 30)
        for name in served | written:
            self.assertIn(f"`{name}`", guide)
        self.assertEqual(f.stop(), 0)


if __name__ == "__main__":
    import unittest

    unittest.main()

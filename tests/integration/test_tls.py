"""TLS and basic auth from a web configuration file in Prometheus' format, with a test CA."""
import crypt
import os
import signal
import ssl
import subprocess

from harness import FREEZR, TestCase, monitor, rule, unique_name, wait_until


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(workdir):
    """A CA, server certificates for 127.0.0.1 and a client certificate, all signed by it, and a
    self-signed stranger."""
    d = os.path.join(workdir, "pki")
    os.mkdir(d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.crt", "-days", "2", "-subj", "/CN=FreezR test CA", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for name, ext in (("server", ["-extfile", "san.ext"]), ("server2", ["-extfile", "san.ext"]),
                      ("client", [])):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", *ext, cwd=d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "stranger.key", "-out",
            "stranger.crt", "-days", "2", "-subj", "/CN=stranger", cwd=d)
    return d


def curl(url, *args):
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10", *args,
                        url], capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout


class TlsTest(TestCase):
    def start(self, web_yml):
        self.pki = make_ca(self.workdir)
        path = os.path.join(self.workdir, "web.yml")
        with open(path, "w") as f:
            f.write(web_yml)
        config = monitor().replace('[http]\nlisten = "127.0.0.1:0"\n',
                                   f'[http]\nlisten = "127.0.0.1:0"\nweb_config = "{path}"\n')
        f = self.freezr(config + rule("r", [unique_name()], cpu_percent=90), ["--dry-run"])
        port = int(f.wait_for(r"listening on 127\.0\.0\.1:(\d+) over TLS").group(1))
        f.wait_scans(1)
        return f, port, path

    def test_https_with_a_basic_auth_user_and_certificates_renewed_on_sighup(self):
        hashed = crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 4))
        f, port, path = self.start("tls_server_config:\n  cert_file: pki/server.crt\n"
                                   "  key_file: pki/server.key\n"
                                   f"basic_auth_users:\n  alice: {hashed}\n")
        ca = os.path.join(self.pki, "ca.crt")
        base = f"https://127.0.0.1:{port}"
        self.assertEqual(curl(base + "/healthz", "--cacert", ca), (0, "200"))
        self.assertEqual(curl(base + "/api/v1/status", "--cacert", ca)[1], "401")
        self.assertEqual(curl(base + "/api/v1/status", "--cacert", ca, "-u", "alice:wrong")[1],
                         "401")
        self.assertEqual(curl(base + "/api/v1/status", "--cacert", ca, "-u", "alice:s3cret"),
                         (0, "200"))
        self.assertEqual(curl(base + "/metrics", "--cacert", ca, "-u", "alice:s3cret")[1], "200")
        self.assertNotEqual(curl(f"http://127.0.0.1:{port}/healthz")[1], "200")  # plain: no
        self.assertNotEqual(curl(base + "/healthz")[0], 0)  # an unknown CA is not trusted
        served = ssl.get_server_certificate(("127.0.0.1", port))
        with open(os.path.join(self.pki, "server.crt")) as c:
            self.assertEqual(ssl.PEM_cert_to_DER_cert(served),
                             ssl.PEM_cert_to_DER_cert(c.read()))
        # Renewed certificates: taken at the reload for the connections that follow.
        with open(path) as w:
            text = w.read().replace("server.crt", "server2.crt").replace("server.key",
                                                                          "server2.key")
        with open(path, "w") as w:
            w.write(text)
        f.signal(signal.SIGHUP)
        f.wait_for(r"web configuration .* reloaded \(certificates taken for new connections\)")
        with open(os.path.join(self.pki, "server2.crt")) as c:
            renewed = ssl.PEM_cert_to_DER_cert(c.read())
        self.assertTrue(wait_until(lambda: ssl.PEM_cert_to_DER_cert(
            ssl.get_server_certificate(("127.0.0.1", port))) == renewed, 10))
        self.assertEqual(f.stop(), 0)

    def test_a_client_certificate_is_required_when_a_client_ca_is_given(self):
        f, port, _ = self.start("tls_server_config:\n  cert_file: pki/server.crt\n"
                                "  key_file: pki/server.key\n  client_ca_file: pki/ca.crt\n"
                                "  client_auth_type: RequireAndVerifyClientCert\n")
        ca = os.path.join(self.pki, "ca.crt")
        url = f"https://127.0.0.1:{port}/api/v1/status"
        self.assertNotEqual(curl(url, "--cacert", ca)[0], 0)  # no client certificate: refused
        cert = os.path.join(self.pki, "client.crt")
        key = os.path.join(self.pki, "client.key")
        self.assertEqual(curl(url, "--cacert", ca, "--cert", cert, "--key", key), (0, "200"))
        # A certificate the client CA did not sign is refused at the handshake.
        self.assertNotEqual(curl(url, "--cacert", ca, "--cert",
                                 os.path.join(self.pki, "stranger.crt"), "--key",
                                 os.path.join(self.pki, "stranger.key"))[0], 0)
        self.assertTrue(f.proc.poll() is None)
        self.assertEqual(f.stop(), 0)

    def test_a_broken_web_configuration_keeps_http_off_and_says_where(self):
        path = os.path.join(self.workdir, "web.yml")
        with open(path, "w") as w:
            w.write("basic_auth_users:\n  bob: plaintext\n")
        config = monitor().replace('[http]\nlisten = "127.0.0.1:0"\n',
                                   f'[http]\nlisten = "127.0.0.1:0"\nweb_config = "{path}"\n')
        f = self.freezr(config + rule("r", [unique_name()], cpu_percent=90), ["--dry-run"])
        f.wait_for(rf"{path}:2:8: the password of 'bob' must be a bcrypt hash.*HTTP is off")
        f.wait_scans(2)  # monitoring goes on
        self.assertEqual(f.stop(), 0)
        check = subprocess.run([FREEZR, "config", "check", f.config_path], capture_output=True, text=True)
        self.assertEqual(check.returncode, 2)
        self.assertIn(f"{path}:2:8: the password of 'bob' must be a bcrypt hash", check.stderr)


if __name__ == "__main__":
    import unittest

    unittest.main()

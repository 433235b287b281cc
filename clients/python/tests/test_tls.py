"""The client over HTTPS against a real server started with TLS (certificates from txkv certs)."""
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
sys.path.insert(0, os.path.dirname(__file__))

from server import JAR, JAVA, TxkvServerProcess  # noqa: E402
from txkv import KeyValueStore  # noqa: E402


class TlsServer(TxkvServerProcess):
    """A server started with TLS from a CA, node and client certificate made by txkv certs."""

    def __init__(self, client_auth="none"):
        self.certs = tempfile.mkdtemp(prefix="txkv-python-tls-")
        for args in (["create-ca"], ["create-node", "--id", "n1"], ["create-client", "--user", "orders"]):
            subprocess.run([JAVA, "-jar", JAR, "certs"] + args + ["--dir", self.certs, "--days", "2"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ca = os.path.join(self.certs, "ca.crt")
        context = ssl.create_default_context(cafile=self.ca)
        if client_auth == "require":
            context.load_cert_chain(os.path.join(self.certs, "client-orders.crt"),
                                    os.path.join(self.certs, "client-orders.key"))
        super().__init__(["--tls-cert", os.path.join(self.certs, "node-n1.crt"),
                          "--tls-key", os.path.join(self.certs, "node-n1.key"), "--tls-ca", self.ca,
                          "--tls-client-auth", client_auth], context)
        self.start()

    def stop(self):
        super().stop()
        shutil.rmtree(self.certs, ignore_errors=True)


class TlsTest(unittest.TestCase):
    def test_https_with_the_ca_works_and_without_it_fails(self):
        server = TlsServer()
        try:
            with KeyValueStore(server.url, ca_file=server.ca) as store:
                store.set("tls/k", "v")
                self.assertEqual(store.get("tls/k"), "v")
            with KeyValueStore(server.url, max_attempts=1) as untrusting:
                with self.assertRaises(Exception):
                    untrusting.get("tls/k")
        finally:
            server.stop()

    def test_a_required_client_certificate_is_sent(self):
        server = TlsServer("require")
        try:
            certs = server.certs
            with KeyValueStore(server.url, ca_file=server.ca,
                               cert_file=os.path.join(certs, "client-orders.crt"),
                               key_file=os.path.join(certs, "client-orders.key")) as store:
                store.set("tls/c", "yes")
                self.assertEqual(store.get("tls/c"), "yes")
            with KeyValueStore(server.url, ca_file=server.ca, max_attempts=1) as anonymous:
                with self.assertRaises(Exception):
                    anonymous.get("tls/c")
        finally:
            server.stop()

    def test_a_certificate_without_its_key_is_refused(self):
        with self.assertRaises(ValueError):
            KeyValueStore("https://localhost:1", cert_file="x.crt")


if __name__ == "__main__":
    unittest.main()

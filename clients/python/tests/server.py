"""Starts a real txkv server (java -jar txkv.jar server) for the tests, on free ports:
HTTP at `url`, gRPC at `grpc_target`."""
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
START_TIMEOUT_S = 60


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


JAR = os.environ.get("TXKV_JAR") or os.path.join(REPO, "txkv-dist", "target", "txkv.jar")
JAVA = os.environ.get("JAVA") or shutil.which("java") or "java"


class TxkvServerProcess:
    """The jar comes from $TXKV_JAR (else txkv-dist/target/txkv.jar), java from $JAVA.

    ``extra_args`` go to ``txkv server``; with ``tls_context`` (an ssl.SSLContext) the server
    is reached over HTTPS at ``localhost``, as its certificate names it."""

    def __init__(self, extra_args=(), tls_context=None):
        self.jar = JAR
        self.java = JAVA
        self.extra_args = list(extra_args)
        self.tls_context = tls_context
        self.data_dir = tempfile.mkdtemp(prefix="txkv-python-tests-")
        self.http_port = free_port()
        self.url = (f"https://localhost:{self.http_port}" if tls_context
                    else f"http://127.0.0.1:{self.http_port}")
        self.grpc_target = f"127.0.0.1:{free_port()}"
        self.process = None

    def start(self):
        if not os.path.isfile(self.jar):
            raise RuntimeError(f"{self.jar} is missing: build it with mvn package, or set TXKV_JAR")
        self.log = open(os.path.join(self.data_dir, "server.log"), "wb")
        self.process = subprocess.Popen(
            [self.java, "-jar", self.jar, "server", "--data", os.path.join(self.data_dir, "data"),
             "--listen", self.grpc_target, "--http", f"127.0.0.1:{self.http_port}"]
            + self.extra_args,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"txkv server exited with {self.process.returncode}: "
                                   + self._log_text())
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2,
                                            context=self.tls_context) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"txkv server not healthy after {START_TIMEOUT_S} s: "
                           + self._log_text())

    def _log_text(self):
        with open(os.path.join(self.data_dir, "server.log"), "rb") as log:
            return log.read()[-2000:].decode("utf-8", "replace")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)

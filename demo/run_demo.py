#!/usr/bin/env python3
"""txkv demo: order, inventory and payment services in separate processes share one txkv
server; a load driver places orders while service processes are killed (SIGKILL) and
restarted; at the end the invariants are checked. Exit code 0: PASS, 1: FAIL, 2: usage.

    bin/txkv demo [--duration 30s] [--seed N] [--plaintext]
    bin/txkv demo --cluster [https://]HOST:PORT [--user U --password-file F] [--ca-file F]

The demo's own server serves TLS with a CA made for the run, and has authorization on: each
service signs in as its own user, whose role grants only the keys that service uses, and the
driver checks with a read-only user. See docs/demo.md.
"""
import argparse
import base64
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

DEMO_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(DEMO_DIR)
sys.path.insert(0, DEMO_DIR)

from shared import SOURCES, Keys, KeyValueStore, TxkvError, emit, encode_int  # noqa: E402

SERVICES = ("order", "inventory", "payment")
SERVICE_SCRIPTS = {name: os.path.join(DEMO_DIR, f"{name}_service.py") for name in SERVICES}
CONSUMERS = {"payment": ("order_placed",), "inventory": ("payment_succeeded", "payment_failed"),
             "order": ("payment_succeeded", "payment_failed")}
SKUS = {"apple": 5, "book": 12, "chair": 45, "desk": 120, "lamp": 30}   # price per unit, cents
SERVER_START_TIMEOUT_S = 60
CERTS_TIMEOUT_S = 60
SERVICE_START_TIMEOUT_S = 20
REQUEST_TIMEOUT_S = 5
ORDER_RETRY_TIMEOUT_S = 15        # a driver gives up on one order after this long
DRAIN_TIMEOUT_S = 30
SAMPLE_INTERVAL_S = 0.5
STOP_GRACE_S = 10
# The users of a secure run (each service signs in as the user named after it), and the
# client settings of the environment, which a run with its own server ignores.
ROOT, CHECKER = "root", "checker"
CLIENT_ENVIRONMENT = ("TXKV_USER", "TXKV_PASSWORD_FILE", "TXKV_TOKEN_FILE", "TXKV_TLS_CA_FILE",
                      "TXKV_TLS_CERT_FILE", "TXKV_TLS_KEY_FILE")
PERMISSION_DENIED, UNAUTHORIZED = 6000, 6001


def log(message):
    print(f"[demo {time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_duration(text):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 30s, 2m, 500ms)")
    number, unit = float(match.group(1)), match.group(2) or "s"
    seconds = number * {"ms": 0.001, "s": 1, "m": 60}[unit]
    if not 1 <= seconds <= 3600:
        raise argparse.ArgumentTypeError("the duration must be between 1 s and 1 h")
    return seconds


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def roles(keys):
    """Each role of a secure run: its user and its grants, (mode, begin, end, what for), with
    keys under the run's prefix; an empty end grants every key that starts with begin."""
    def exact(*parts):
        key = keys.key(*parts)
        return key, key + b"\x00"

    def prefix(*parts):
        return keys.key(*parts) + b"/", b""

    config = ("READ", *exact("config"), "products, prices, customers")

    def consumer(name):
        return [("READ", *prefix("outbox", SOURCES[name]), f"consumes {SOURCES[name]}'s events"),
                ("READWRITE", *exact("cursor", name), "its consumer's cursor"),
                ("WRITE", *prefix("effects", name), "its exactly-once counters")]
    return {
        "demo-order": ("order", [
            config,
            ("READWRITE", *prefix("order"), "its orders"),
            ("READWRITE", *prefix("stock"), "reserves stock (shared with inventory)"),
            ("WRITE", *prefix("reserved"), "reserves stock (shared with inventory)"),
            ("WRITE", *prefix("outbox", "order"), "publishes order_placed")] + consumer("order")),
        "demo-payment": ("payment", [
            config,
            ("READWRITE", *prefix("account"), "its accounts"),
            ("WRITE", *prefix("payment"), "its payment records"),
            ("WRITE", *prefix("outbox", "payment"), "publishes payment results")]
            + consumer("payment")),
        "demo-inventory": ("inventory", [
            config,
            ("READWRITE", *prefix("stock"), "its stock (order reserves from it)"),
            ("READWRITE", *prefix("reserved"), "its reservations (order makes them)"),
            ("READWRITE", *prefix("sold"), "its sales")] + consumer("inventory")),
        "demo-checker": (CHECKER, [
            ("READ", keys.prefix, b"", "the driver's monitor and final checks")]),
    }


def describe_range(keys, begin, end):
    """A grant's keys for the log: relative to the run's prefix, a trailing / for prefixes."""
    name = begin[len(keys.prefix):].decode() or "<run prefix>"
    return name if end in (b"", begin + b"\x00") else f"[{name}, {end[len(keys.prefix):]!r})"


def write_secret(path, text):
    """Writes a new file readable by its owner only, created with mode 600 (never wider)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text + "\n")


def first_line(path):
    with open(path, encoding="utf-8") as file:
        return file.readline().rstrip("\r\n")


def tls_context(ca_file):
    """For urllib: the server's certificate checked against ca_file (else $TXKV_TLS_CA_FILE,
    else the system's CAs), with the client certificate of the environment if any."""
    context = ssl.create_default_context(cafile=ca_file or os.environ.get("TXKV_TLS_CA_FILE")
                                         or None)
    cert, key = os.environ.get("TXKV_TLS_CERT_FILE"), os.environ.get("TXKV_TLS_KEY_FILE")
    if cert and key:
        context.load_cert_chain(cert, key)
    return context


def http_json(method, url, body=None, timeout_s=REQUEST_TIMEOUT_S):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as answer:
        return json.loads(answer.read())


def wait_healthy(url, process, what, timeout_s, context=None):
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2, context=context) as answer:
                if answer.status == 200:
                    return
        except OSError as error:
            last_error = error
        time.sleep(0.1)
    raise RuntimeError(f"{what} not healthy at {url} after {timeout_s} s"
                       + (f" (last: {last_error})" if last_error else ""))


class Processes:
    """The child processes; each in its own session so that a kill reaches all of it."""

    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.children = {}
        self.lock = threading.Lock()

    def start(self, name, argv):
        log_file = open(os.path.join(self.run_dir, f"{name}.log"), "ab")
        process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        log_file.close()
        with self.lock:
            self.children[name] = process
        return process

    def kill(self, name):
        with self.lock:
            process = self.children.get(name)
        if process and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self):
        with self.lock:
            children = list(self.children.items())
        for _, process in children:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_GRACE_S
        for _, process in children:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()


class Demo:
    def __init__(self, args):
        self.args = args
        self.random = random.Random(args.seed)
        self.run_dir = tempfile.mkdtemp(prefix="txkv-demo-")
        self.processes = Processes(self.run_dir)
        self.keys = Keys(f"demo/{int(time.time())}-{args.seed}/")
        self.service_ports = {name: free_port() for name in SERVICES}
        self.kills = {name: 0 for name in SERVICES}
        self.violations = []
        self.samples = 0
        self.lock = threading.Lock()
        self.acked = {}            # order id -> status answered to the driver
        self.unacked = set()       # orders the driver gave up on (outcome unknown)
        self.request_retries = 0
        self.next_order = 0
        self.stop_load = threading.Event()
        # secure: the demo's own server with TLS and authorization (not --plaintext, not
        # --cluster); the users' password files, mode 600, in the run directory.
        self.secure = not args.cluster and not args.plaintext
        self.ca_file = None
        self.password_files = {}
        if not args.cluster:
            # The demo's own server: nothing of the caller's client settings applies to it.
            for name in CLIENT_ENVIRONMENT:
                os.environ.pop(name, None)

    # ---- setup ---------------------------------------------------------------------------

    def start_server(self):
        if self.args.cluster:
            url = self.args.cluster if "://" in self.args.cluster else f"http://{self.args.cluster}"
            self.ca_file = self.args.ca_file
            log(f"using the txkv server at {url}"
                + (f" as user {self.args.user}" if self.args.user else ""))
            wait_healthy(url, None, "txkv server", 10,
                         tls_context(self.ca_file) if url.startswith("https:") else None)
            return url
        http_port = free_port()
        argv = [self.args.java, "-jar", self.args.jar, "server",
                "--data", os.path.join(self.run_dir, "data"),
                "--listen", f"127.0.0.1:{free_port()}", "--http", f"127.0.0.1:{http_port}"]
        context = None
        if self.secure:
            certs = self.make_certificates()
            self.ca_file = os.path.join(certs, "ca.crt")
            argv += ["--tls-cert", os.path.join(certs, "node-demo.crt"),
                     "--tls-key", os.path.join(certs, "node-demo.key"), "--tls-ca", self.ca_file]
            context = tls_context(self.ca_file)
        process = self.processes.start("txkv-server", argv)
        url = f"{'https' if self.secure else 'http'}://127.0.0.1:{http_port}"
        wait_healthy(url, process, "txkv server", SERVER_START_TIMEOUT_S, context)
        log(f"txkv server up at {url} (data {self.run_dir}/data"
            + (f"; TLS with the CA {self.ca_file})" if self.secure else "; plaintext)"))
        return url

    def make_certificates(self):
        """A CA for this run and the server's certificate (for localhost and 127.0.0.1)."""
        certs = os.path.join(self.run_dir, "certs")
        with open(os.path.join(self.run_dir, "certs.log"), "ab") as output:
            for command in (["create-ca", "--name", "txkv demo CA"],
                            ["create-node", "--id", "demo"]):
                argv = [self.args.java, "-jar", self.args.jar, "certs", *command, "--dir", certs]
                code = subprocess.run(argv, stdout=output, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, timeout=CERTS_TIMEOUT_S).returncode
                if code != 0:
                    raise RuntimeError(f"txkv certs {command[0]} failed with code {code} "
                                       f"(see {self.run_dir}/certs.log)")
        return certs

    def set_up_authorization(self):
        """Users and roles, made while authorization is off (when anyone may), then turned on.

        root has a random password; each service has its own user and role (roles() grants
        it only the keys it uses), and the driver checks as the read-only user checker. The
        passwords go to files of mode 600 in the run directory, and reach the server only in
        the bodies of these HTTPS requests; the services read theirs from the files.
        """
        for user in (ROOT, *SERVICES, CHECKER):
            path = os.path.join(self.run_dir, f"{user}.password")
            write_secret(path, secrets.token_urlsafe(24))
            self.password_files[user] = path
        setup = KeyValueStore(self.url, text=False, ca_file=self.ca_file)   # no credentials

        def b64(data):
            return base64.b64encode(data).decode("ascii")
        setup.change_auth({"userAdd": {"name": ROOT, "roles": ["root"],
                                       "password": first_line(self.password_files[ROOT])}})
        for role, (user, grants) in roles(self.keys).items():
            setup.change_auth({"roleAdd": role})
            for mode, begin, end, _ in grants:
                setup.change_auth({"roleGrant": {"role": role, "permission": {
                    "mode": mode, "begin": b64(begin), "end": b64(end)}}})
            setup.change_auth({"userAdd": {"name": user, "roles": [role],
                                           "password": first_line(self.password_files[user])}})
            by_mode = {}
            for mode, begin, end, _ in grants:
                by_mode.setdefault(mode.lower(), []).append(describe_range(self.keys, begin, end))
            log(f"user {user}, role {role}: " + "; ".join(
                f"{mode} {', '.join(ranges)}" for mode, ranges in by_mode.items()))
        description = setup.change_auth({"setEnabled": True})
        setup.close()
        if not description.get("enabled"):
            raise RuntimeError("authorization did not turn on")
        log(f"authorization on: users {', '.join(u['name'] for u in description['users'])} "
            f"(passwords in {self.run_dir}/<user>.password, mode 600)")

    def client_options(self, user):
        """KeyValueStore options for ``user``'s credentials (None: none). A secure run has a
        password file per user; --cluster has the one user given, else the environment's."""
        if self.secure:
            return {"ca_file": self.ca_file, "user": user,
                    "password_file": self.password_files.get(user)}
        if self.args.cluster and self.args.user:
            return {"ca_file": self.ca_file, "user": self.args.user,
                    "password_file": self.args.password_file}
        return {"ca_file": self.ca_file, "user": None, "password_file": None}

    def store(self, user, **options):
        return KeyValueStore(self.url, text=False, **self.client_options(user), **options)

    def seed(self):
        rng = self.random
        self.initial_stock = {sku: rng.randint(150, 300) for sku in SKUS}
        customers = {f"customer-{i:02d}": rng.choice((300, 3000, 6000, 12000))
                     for i in range(16)}
        customers["merchant"] = 0
        self.initial_accounts = customers
        config = {"skus": {sku: {"stock": self.initial_stock[sku], "price": SKUS[sku]}
                           for sku in SKUS}, "accounts": customers}

        def write(tr):
            tr.set(self.keys.config(), json.dumps(config, sort_keys=True))
            for sku, units in self.initial_stock.items():
                tr.set(self.keys.stock(sku), encode_int(units))
                tr.set(self.keys.reserved(sku), encode_int(0))
                tr.set(self.keys.sold(sku), encode_int(0))
            for name, balance in customers.items():
                tr.set(self.keys.account(name), encode_int(balance))
        self.admin.transact(write)
        log(f"seeded {sum(self.initial_stock.values())} units of {len(SKUS)} products and "
            f"{len(customers) - 1} customers with {sum(customers.values())} cents")

    def start_service(self, name):
        argv = [sys.executable, SERVICE_SCRIPTS[name], "--txkv", self.url,
                "--prefix", self.keys.prefix.decode(), "--port", str(self.service_ports[name]),
                "--parent-pid", str(os.getpid())]
        # The password file's name, never the password: command lines are visible to all.
        for option, value in self.client_options(name).items():
            if value:
                argv += ["--" + option.replace("_", "-"), value]
        process = self.processes.start(name, argv)
        wait_healthy(self.service_url(name), process, f"{name} service",
                     SERVICE_START_TIMEOUT_S)

    def service_url(self, name):
        return f"http://127.0.0.1:{self.service_ports[name]}"

    # ---- load, chaos, monitoring -------------------------------------------------------

    def new_order(self, rng):
        with self.lock:
            if self.next_order >= self.args.orders_max:
                return None
            self.next_order += 1
            number = self.next_order
        return {"id": f"o-{number:06d}", "customer": f"customer-{rng.randrange(16):02d}",
                "sku": rng.choice(sorted(SKUS)), "quantity": rng.randint(1, 3)}

    def driver(self, worker):
        rng = random.Random(self.args.seed * 1000 + worker)
        while not self.stop_load.is_set():
            order = self.new_order(rng)
            if order is None:
                return
            self.place(order)

    def place(self, order):
        """POSTs the order, retrying (same id: the service is idempotent) while it is down."""
        deadline = time.monotonic() + ORDER_RETRY_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                answer = http_json("POST", self.service_url("order") + "/orders", order)
                with self.lock:
                    self.acked[order["id"]] = answer["status"]
                return
            except (OSError, urllib.error.HTTPError, ValueError):
                with self.lock:
                    self.request_retries += 1
                time.sleep(0.1)
        with self.lock:
            self.unacked.add(order["id"])

    def chaos(self, until):
        """Kills a random service with SIGKILL every 0.5-1.5 s and restarts it."""
        while time.monotonic() < until:
            time.sleep(min(self.random.uniform(0.5, 1.5), max(0.0, until - time.monotonic())))
            if time.monotonic() >= until:
                return
            victim = self.random.choice(SERVICES)
            self.processes.kill(victim)
            self.kills[victim] += 1
            time.sleep(self.random.uniform(0.05, 0.5))
            self.start_service(victim)

    def monitor(self):
        """Checks stock and money at one read version, twice a second, during the run."""
        while not self.stop_monitor.is_set():
            try:
                stock, accounts = self.kv.transact(self.read_balances)
                self.check_balances(stock, accounts, final=False)
                self.samples += 1
            except TxkvError as error:
                log(f"monitor: {error}")
            self.stop_monitor.wait(SAMPLE_INTERVAL_S)

    def read_balances(self, tr):
        stock = {sku: (tr.get_int(self.keys.stock(sku)), tr.get_int(self.keys.reserved(sku)),
                       tr.get_int(self.keys.sold(sku))) for sku in SKUS}
        accounts = {name: tr.get_int(self.keys.account(name)) for name in self.initial_accounts}
        return stock, accounts

    def violation(self, message):
        with self.lock:
            if len(self.violations) < 50:
                self.violations.append(message)

    def check_balances(self, stock, accounts, final):
        when = "at the end" if final else f"in sample {self.samples + 1}"
        for sku, (on_shelf, reserved, sold) in stock.items():
            if on_shelf < 0 or reserved < 0 or sold < 0:
                self.violation(f"oversold {sku} {when}: stock {on_shelf}, reserved {reserved}")
            if on_shelf + reserved + sold != self.initial_stock[sku]:
                self.violation(f"units of {sku} {when}: {on_shelf} + {reserved} + {sold} "
                               f"!= {self.initial_stock[sku]}")
        total, expected = sum(accounts.values()), sum(self.initial_accounts.values())
        if total != expected:
            self.violation(f"money {when}: {total} cents, expected {expected}")

    # ---- drain and final checks ----------------------------------------------------------

    def scan(self, *parts):
        begin, end = self.keys.range_of(*parts)
        return [(key[len(begin):].decode(), value) for key, value in self.kv.get_range(begin, end)]

    def events(self):
        """Every event of both outboxes as (stamp, event), in commit order: the keys' 10-byte
        versionstamps (and 2-byte indexes) compare across outboxes."""
        events = []
        for producer in sorted(set(SOURCES.values())):
            begin = self.keys.outbox(producer)
            events += [(key[len(begin):], json.loads(value))
                       for key, value in self.kv.get_range(*self.keys.range_of("outbox", producer))]
        return sorted(events, key=lambda stamped: stamped[0])

    def drained(self):
        orders = [json.loads(v) for _, v in self.scan("order")]
        if any(order["status"] not in ("PAID", "CANCELLED") for order in orders):
            return False
        for consumer, source in SOURCES.items():
            last = self.kv.get_range(*self.keys.range_of("outbox", source), limit=1, reverse=True)
            if self.kv.get(self.keys.cursor(consumer)) != (last[0][0] if last else None):
                return False
        return True

    def drain(self):
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.drained():
                return True
            time.sleep(0.25)
        return False

    def final_checks(self, drained):
        results = []
        orders = {oid: json.loads(v) for oid, v in self.scan("order")}
        events = self.events()
        stock, accounts = self.kv.transact(self.read_balances)
        before = len(self.violations)

        # 1. No overselling, at every sample and at the end.
        self.check_balances(stock, accounts, final=True)
        for sku, (on_shelf, reserved, sold) in stock.items():
            paid_units = sum(o["quantity"] for o in orders.values()
                             if o["sku"] == sku and o["status"] == "PAID")
            if reserved != 0 or sold != paid_units:
                self.violation(f"{sku}: reserved {reserved} (expected 0), sold {sold} "
                               f"(paid orders hold {paid_units})")
        results.append(("no overselling: stock >= 0, stock + sold = initial, at "
                        f"{self.samples} samples and the end", self.only_new(before, "sold",
                                                                             "units", "oversold")))

        # 2. Money conserved, and each customer charged exactly for its paid orders.
        before = len(self.violations)
        for name, initial in self.initial_accounts.items():
            if name == "merchant":
                expected = sum(o["amount"] for o in orders.values() if o["status"] == "PAID")
            else:
                expected = initial - sum(o["amount"] for o in orders.values()
                                         if o["customer"] == name and o["status"] == "PAID")
            if accounts[name] != expected:
                self.violation(f"account {name}: {accounts[name]} cents, paid orders say "
                               f"{expected}")
        results.append(("money conserved: total unchanged, balances match paid orders",
                        self.only_new(before, "money", "account")))

        # 3. Every order terminal; every order the driver saw acknowledged exists.
        before = len(self.violations)
        for oid, order in orders.items():
            if order["status"] not in ("PAID", "CANCELLED"):
                self.violation(f"order {oid} is {order['status']} after the drain")
        for oid in self.acked:
            if oid not in orders:
                self.violation(f"order {oid} was acknowledged but is not stored")
        results.append((f"every order terminal (PAID or CANCELLED) after the drain"
                        f"{'' if drained else ' (drain timed out)'}",
                        self.violations[before:]))

        # 4. Each event consumed exactly once per consumer; payments once per order.
        before = len(self.violations)
        effects = {}
        for name, value in self.scan("effects"):
            consumer, oid, event_type = name.split("/")
            effects[(consumer, oid, event_type)] = int.from_bytes(value, "little", signed=True)
        expected_effects = set()
        for _, event in events:
            for consumer, types in CONSUMERS.items():
                if event["type"] in types:
                    expected_effects.add((consumer, event["order"], event["type"]))
        for key in expected_effects | set(effects):
            count = effects.get(key, 0)
            if count != 1:
                self.violation(f"{key[0]} consumed {key[2]} of {key[1]} {count} times")
        payments = dict(self.scan("payment"))
        placed = {e["order"] for _, e in events if e["type"] == "order_placed"}
        if set(payments) != placed:
            self.violation(f"{len(payments)} payment records for {len(placed)} placed orders")
        results.append((f"each event consumed exactly once ({len(events)} events, "
                        f"{sum(effects.values())} effects by {len(CONSUMERS)} consumers)",
                        self.violations[before:]))

        # 5. Per-order events in commit (outbox) order, matching each order's history.
        before = len(self.violations)
        per_order = {}
        for _, event in events:
            per_order.setdefault(event["order"], []).append(event)
        for oid, order in orders.items():
            mine = per_order.get(oid, [])
            if [e["seq"] for e in mine] != list(range(1, len(mine) + 1)):
                self.violation(f"order {oid}: event sequence {[e['seq'] for e in mine]}")
            types = [e["type"] for e in mine]
            expected = {"PAID": ["order_placed", "payment_succeeded"],
                        "CANCELLED": (["order_placed", "payment_failed"]
                                      if order.get("reason") == "payment_failed" else [])}
            if types != expected.get(order["status"], types + ["?"]):
                self.violation(f"order {oid} ({order['status']}): events {types}")
            history = ["PLACED"] + ["PAID" if t == "payment_succeeded" else "CANCELLED"
                                    for t in types[1:]] if types else ["CANCELLED"]
            if order["history"] != history:
                self.violation(f"order {oid}: history {order['history']}, events {types}")
        for oid in per_order:
            if oid not in orders:
                self.violation(f"events for unknown order {oid}")
        results.append(("per-order events in commit order (versionstamps of both outboxes)",
                        self.violations[before:]))
        return orders, events, results

    # ---- security checks -----------------------------------------------------------------

    def authorization_check(self):
        """Proof that authorization was in force: calls outside a user's grants are refused.

        Each probe runs with the credentials a service (or the checker) used all along; the
        forged writes must be refused before anything is applied (6000), a client without
        credentials is refused (6001), and a service still reaches its own keys.
        """
        if not self.secure:
            why = ("--plaintext" if self.args.plaintext
                   else "--cluster: the demo makes no users on a server it did not start")
            return (f"authorization not checked ({why})", None)
        keys = self.keys
        forged = {"order": "forged", "seq": 2, "type": "payment_succeeded", "sku": "apple",
                  "quantity": 1, "amount": 1}
        probes = [
            ("payment", "writes order/forged (the order service's)", PERMISSION_DENIED,
             lambda kv: kv.set(keys.order("forged"), b"{}")),
            ("order", "reads account/merchant (the payment service's)", PERMISSION_DENIED,
             lambda kv: kv.get(keys.account("merchant"))),
            ("inventory", "appends a payment_succeeded to outbox/payment/", PERMISSION_DENIED,
             lambda kv: kv.transact(lambda tr: emit(tr, keys, "payment", forged))),
            ("order", "moves cursor/payment (another consumer's)", PERMISSION_DENIED,
             lambda kv: kv.set(keys.cursor("payment"), b"")),
            (CHECKER, "writes config (read-only user)", PERMISSION_DENIED,
             lambda kv: kv.set(keys.config(), b"{}")),
            (None, "reads config without credentials", UNAUTHORIZED,
             lambda kv: kv.get(keys.config())),
            ("payment", "reads account/merchant (its own)", None,
             lambda kv: kv.get(keys.account("merchant"))),
        ]
        notes, problems, refused = [], [], 0
        for user, what, expected, call in probes:
            who = user or "anonymous"
            try:
                call(self.store(user, max_attempts=1))
                outcome, code = "allowed", None
            except TxkvError as error:
                outcome, code = f"refused {error.code} {error.name}", error.code
            line = f"{who} {what}: {outcome}"
            if code == expected:
                notes.append(line)
                refused += expected is not None
            else:
                problems.append(line + (f", expected {expected}" if expected else
                                        ", expected to be allowed"))
        if self.kv.get(keys.order("forged")) is not None:
            problems.append("order/forged is stored: a forbidden write took effect")
        if self.kv.get(keys.cursor("payment")) == b"":
            problems.append("cursor/payment was moved: a forbidden write took effect")
        forbidden = sum(1 for _, _, expected, _ in probes if expected is not None)
        return (f"authorization in force over TLS: {refused} of {forbidden} calls outside the "
                "caller's grants refused, own keys served", problems, notes)

    def secrets_check(self):
        """No password outside its file: not in a log, a data file or a command line."""
        if not self.secure:
            return None
        passwords = {user: first_line(path).encode() for user, path in self.password_files.items()}
        own_files = set(self.password_files.values())
        problems, scanned = [], 0
        for directory, _, files in os.walk(self.run_dir):
            for name in files:
                path = os.path.join(directory, name)
                if path in own_files:
                    continue
                try:
                    with open(path, "rb") as file:
                        data = file.read()
                except OSError:
                    continue      # a file the server just removed
                scanned += 1
                for user, password in passwords.items():
                    if password in data:
                        problems.append(f"{user}'s password is in "
                                        f"{os.path.relpath(path, self.run_dir)}")
        with self.processes.lock:
            pids = [process.pid for process in self.processes.children.values()]
        for pid in pids:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as file:
                    command_line = file.read()
            except OSError:
                continue           # no /proc, or the process is gone
            for user, password in passwords.items():
                if password in command_line:
                    problems.append(f"{user}'s password is on the command line of pid {pid}")
        return (f"passwords only in their files (mode 600): in none of {scanned} logs and data "
                f"files nor on {len(pids)} command lines", problems)

    def only_new(self, before, *words):
        """Violations since ``before`` plus those of the samples taken during the run."""
        found = [v for v in self.violations[:before] if any(w in v for w in words)]
        return found + self.violations[before:]

    # ---- the run -------------------------------------------------------------------------

    def run(self):
        self.url = self.start_server()
        if self.secure:
            self.set_up_authorization()
        # Seeding writes everything: root. The monitor and the checks only read: checker.
        self.admin = self.store(ROOT)
        self.kv = self.store(CHECKER)
        self.seed()
        for name in SERVICES:
            self.start_service(name)
        log(f"services up: " + ", ".join(f"{n} {self.service_url(n)}" for n in SERVICES))
        log(f"placing orders for {self.args.duration:g} s with {self.args.workers} workers "
            f"(at most {self.args.orders_max}), killing services at random (seed "
            f"{self.args.seed})")

        self.stop_monitor = threading.Event()
        monitor = threading.Thread(target=self.monitor, name="monitor", daemon=True)
        monitor.start()
        drivers = [threading.Thread(target=self.driver, args=(i,), name=f"driver-{i}",
                                    daemon=True) for i in range(self.args.workers)]
        for thread in drivers:
            thread.start()
        started = time.monotonic()
        self.chaos(started + self.args.duration)
        self.stop_load.set()
        for thread in drivers:
            thread.join(ORDER_RETRY_TIMEOUT_S + REQUEST_TIMEOUT_S)
        log(f"load stopped after {time.monotonic() - started:.1f} s: {len(self.acked)} orders "
            f"acknowledged, {self.request_retries} requests retried, kills "
            + ", ".join(f"{n} {k}" for n, k in self.kills.items()))

        log("draining: waiting for every order to reach PAID or CANCELLED...")
        drained = self.drain()
        self.stop_monitor.set()
        monitor.join(5)
        orders, events, results = self.final_checks(drained)
        results.append(self.authorization_check())
        secrets_result = self.secrets_check()
        if secrets_result:
            results.append(secrets_result)
        return self.report(orders, events, results, drained)

    def report(self, orders, events, results, drained):
        statuses = {}
        for order in orders.values():
            label = order["status"] + (f" ({order['reason']})" if order.get("reason") else "")
            statuses[label] = statuses.get(label, 0) + 1
        print()
        print(f"orders: {len(orders)} stored, {len(self.acked)} acknowledged, "
              f"{len(self.unacked)} given up by the driver; "
              + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
        print(f"events: {len(events)}; service kills (SIGKILL): "
              + ", ".join(f"{n} {k}" for n, k in self.kills.items()))
        if self.secure:
            print(f"security: TLS (CA {self.ca_file}); authorization on, one user per service "
                  f"(order, payment, inventory), checks as {CHECKER} (read-only)")
        elif self.args.cluster:
            who = (f"every process as user {self.args.user}" if self.args.user
                   else "every process with the token in $TXKV_TOKEN_FILE"
                   if os.environ.get("TXKV_TOKEN_FILE") else "no credentials")
            print(f"security: {'TLS' if self.url.startswith('https:') else 'plaintext'}; {who}")
        else:
            print("security: none (--plaintext: no TLS, no users)")
        failed = False
        for title, problems, *notes in results:
            if problems is None:
                print(f"  --   {title}")
                continue
            print(f"  {'ok  ' if not problems else 'FAIL'} {title}")
            for note in (notes[0] if notes else [])[:10]:
                print(f"         {note}")
            for problem in problems[:10]:
                print(f"         {problem}")
            failed = failed or bool(problems)
        if not drained:
            failed = True
        if not orders:
            print("  FAIL no orders were placed")
            failed = True
        if sum(self.kills.values()) == 0:
            print("  (no service was killed: the run was too short)")
        print()
        print("FAIL" if failed else "PASS", f"(logs in {self.run_dir})" if failed else "")
        return 1 if failed else 0

    def cleanup(self, keep):
        self.processes.stop_all()
        if not keep:
            shutil.rmtree(self.run_dir, ignore_errors=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="txkv demo", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=parse_duration, default=30.0,
                        help="how long to place orders and kill services (default 30s)")
    parser.add_argument("--cluster", metavar="[https://]HOST:PORT",
                        help="use this txkv HTTP gateway instead of starting a server (http "
                             "unless the URL says https)")
    parser.add_argument("--plaintext", action="store_true",
                        help="start the server without TLS and without users (as before TLS "
                             "and authorization existed)")
    parser.add_argument("--user",
                        help="with --cluster: sign in as this user everywhere (default "
                             "$TXKV_USER)")
    parser.add_argument("--password-file",
                        help="with --cluster: the file whose first line is the user's password "
                             "(default $TXKV_PASSWORD_FILE)")
    parser.add_argument("--ca-file",
                        help="with --cluster and an https URL: the CA of the server's "
                             "certificate (default $TXKV_TLS_CA_FILE)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (printed)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent order placers")
    parser.add_argument("--orders-max", type=int, default=20_000, help="orders at most")
    parser.add_argument("--jar", default=os.path.join(REPO, "txkv-dist", "target", "txkv.jar"))
    parser.add_argument("--java", default=os.environ.get("JAVA") or shutil.which("java") or "java")
    parser.add_argument("--keep", action="store_true", help="keep the data and logs directory")
    args = parser.parse_args(argv)
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1_000_000)
    if not 1 <= args.workers <= 64:
        parser.error("--workers must be 1 to 64")
    if args.orders_max < 1:
        parser.error("--orders-max must be positive")
    if args.cluster:
        args.user = args.user or os.environ.get("TXKV_USER") or None
        args.password_file = args.password_file or os.environ.get("TXKV_PASSWORD_FILE") or None
        args.ca_file = args.ca_file or os.environ.get("TXKV_TLS_CA_FILE") or None
        if args.plaintext:
            parser.error("--plaintext is for the demo's own server; with --cluster the URL's "
                         "scheme (http or https) decides")
        if bool(args.user) != bool(args.password_file):
            parser.error("signing in needs both --user and --password-file (or TXKV_USER and "
                         "TXKV_PASSWORD_FILE)")
        for name in ("password_file", "ca_file"):
            if getattr(args, name):
                setattr(args, name, os.path.abspath(getattr(args, name)))
    else:
        # The demo's own server gets its own CA and users; the environment's do not apply.
        if args.user or args.password_file or args.ca_file:
            parser.error("--user, --password-file and --ca-file go with --cluster (the demo's "
                         "own server has its own CA and users)")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        import flask  # noqa: F401
    except ImportError:
        print("txkv demo: the services need Flask: apt-get install python3-flask", file=sys.stderr)
        return 2
    if not args.cluster and not os.path.isfile(args.jar):
        print(f"txkv demo: {args.jar} is missing: run bin/txkv demo, or mvn package",
              file=sys.stderr)
        return 2
    # SIGTERM and SIGHUP clean up like Ctrl-C does; SIGINT too when started in the background
    # (where shells ignore it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    demo = Demo(args)
    log(f"seed {args.seed}; run directory {demo.run_dir}")
    code = 1
    try:
        code = demo.run()
    except KeyboardInterrupt:
        log("interrupted")
        code = 130
    except Exception as error:   # the summary must still come out, and children must die
        log(f"FAIL: {error!r}")
        if isinstance(error, TxkvError) and error.code in (PERMISSION_DENIED, UNAUTHORIZED):
            log("the server has authorization on: give --user and --password-file (or "
                "TXKV_USER and TXKV_PASSWORD_FILE) of a user with readwrite on demo/")
        code = 1
    finally:
        demo.stop_load.set()
        demo.cleanup(keep=args.keep or code != 0)
        if args.keep or code != 0:
            log(f"kept {demo.run_dir} (data and logs)")
    return code


if __name__ == "__main__":
    sys.exit(main())

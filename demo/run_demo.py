#!/usr/bin/env python3
"""txkv demo: order, inventory and payment services in separate processes share one txkv
server; a load driver places orders while service processes are killed (SIGKILL) and
restarted; at the end the invariants are checked. Exit code 0: PASS, 1: FAIL, 2: usage.

    bin/txkv demo [--duration 30s] [--cluster HOST:PORT] [--seed N]

See docs/demo.md.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
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

from shared import Keys, KeyValueStore, TxkvError, encode_int  # noqa: E402

SERVICES = ("order", "inventory", "payment")
SERVICE_SCRIPTS = {name: os.path.join(DEMO_DIR, f"{name}_service.py") for name in SERVICES}
CONSUMERS = {"payment": ("order_placed",), "inventory": ("payment_succeeded", "payment_failed"),
             "order": ("payment_succeeded", "payment_failed")}
SKUS = {"apple": 5, "book": 12, "chair": 45, "desk": 120, "lamp": 30}   # price per unit, cents
SERVER_START_TIMEOUT_S = 60
SERVICE_START_TIMEOUT_S = 20
REQUEST_TIMEOUT_S = 5
ORDER_RETRY_TIMEOUT_S = 15        # a driver gives up on one order after this long
DRAIN_TIMEOUT_S = 30
SAMPLE_INTERVAL_S = 0.5
STOP_GRACE_S = 10


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


def http_json(method, url, body=None, timeout_s=REQUEST_TIMEOUT_S):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as answer:
        return json.loads(answer.read())


def wait_healthy(url, process, what, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} not healthy at {url} after {timeout_s} s")


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

    # ---- setup ---------------------------------------------------------------------------

    def start_server(self):
        if self.args.cluster:
            url = self.args.cluster if "://" in self.args.cluster else f"http://{self.args.cluster}"
            log(f"using the txkv server at {url}")
            wait_healthy(url, None, "txkv server", 10)
            return url
        http_port = free_port()
        argv = [self.args.java, "-jar", self.args.jar, "server",
                "--data", os.path.join(self.run_dir, "data"),
                "--listen", f"127.0.0.1:{free_port()}", "--http", f"127.0.0.1:{http_port}"]
        process = self.processes.start("txkv-server", argv)
        url = f"http://127.0.0.1:{http_port}"
        wait_healthy(url, process, "txkv server", SERVER_START_TIMEOUT_S)
        log(f"txkv server up at {url} (data {self.run_dir}/data)")
        return url

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
        self.kv.transact(write)
        log(f"seeded {sum(self.initial_stock.values())} units of {len(SKUS)} products and "
            f"{len(customers) - 1} customers with {sum(customers.values())} cents")

    def start_service(self, name):
        argv = [sys.executable, SERVICE_SCRIPTS[name], "--txkv", self.url,
                "--prefix", self.keys.prefix.decode(), "--port", str(self.service_ports[name]),
                "--parent-pid", str(os.getpid())]
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

    def outbox(self):
        begin = self.keys.outbox()
        return self.kv.get_range(begin, begin[:-1] + b"0")

    def drained(self):
        orders = [json.loads(v) for _, v in self.scan("order")]
        if any(order["status"] not in ("PAID", "CANCELLED") for order in orders):
            return False
        events = self.outbox()
        last = events[-1][0] if events else None
        return all(self.kv.get(self.keys.cursor(c)) == last for c in CONSUMERS)

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
        events = [(key, json.loads(value)) for key, value in self.outbox()]
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
        results.append(("per-order events in commit order (outbox versionstamps)",
                        self.violations[before:]))
        return orders, events, results

    def only_new(self, before, *words):
        """Violations since ``before`` plus those of the samples taken during the run."""
        found = [v for v in self.violations[:before] if any(w in v for w in words)]
        return found + self.violations[before:]

    # ---- the run -------------------------------------------------------------------------

    def run(self):
        self.url = self.start_server()
        self.kv = KeyValueStore(self.url, text=False)
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
        failed = False
        for title, problems in results:
            print(f"  {'ok  ' if not problems else 'FAIL'} {title}")
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
    parser.add_argument("--cluster", metavar="HOST:PORT",
                        help="use this txkv HTTP gateway instead of starting a server")
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
        code = 1
    finally:
        demo.stop_load.set()
        demo.cleanup(keep=args.keep or code != 0)
        if args.keep or code != 0:
            log(f"kept {demo.run_dir} (data and logs)")
    return code


if __name__ == "__main__":
    sys.exit(main())

"""What the demo's services share: the keyspace, the outboxes and the consumer loop.

Keyspace (under PREFIX = demo/<run id>/; integers are 8-byte little-endian, for ADD), with the
service that owns each part (run_demo.py grants each service's user only what it uses):

    config                      JSON: skus {sku: {stock, price}}, accounts {name: balance}
    stock/<sku>                 units on the shelf            (inventory; order reserves)
    reserved/<sku>              units held by unpaid orders   (inventory; order reserves)
    sold/<sku>                  units of paid orders          (inventory)
    account/<name>              money, in cents               (payment)
    order/<id>                  JSON order: status, history   (order)
    payment/<id>                JSON payment record           (payment)
    outbox/<producer>/<versionstamp><n>  JSON event of the producing service (order or
                                payment); n: 2-byte index within its transaction
    cursor/<consumer>           the last outbox key the consumer applied
    effects/<consumer>/<id>/<type>  how many times the consumer applied that event (must be 1)
"""
import json
import logging
import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "clients", "python"))

from txkv import KeyValueStore, TxkvError, encode_int  # noqa: E402

CONSUMER_BATCH_EVENTS = 16
CONSUMER_IDLE_SLEEP_S = 0.05
CONSUMER_ERROR_SLEEP_S = 0.2
# The outbox each consumer reads: the service whose events it applies.
SOURCES = {"payment": "order", "order": "payment", "inventory": "payment"}


class Keys:
    """Key builders for one run's prefix (bytes keys)."""

    def __init__(self, prefix):
        self.prefix = prefix.encode() if isinstance(prefix, str) else prefix

    def key(self, *parts):
        return self.prefix + "/".join(parts).encode()

    def config(self):
        return self.key("config")

    def stock(self, sku):
        return self.key("stock", sku)

    def reserved(self, sku):
        return self.key("reserved", sku)

    def sold(self, sku):
        return self.key("sold", sku)

    def account(self, name):
        return self.key("account", name)

    def order(self, order_id):
        return self.key("order", order_id)

    def payment(self, order_id):
        return self.key("payment", order_id)

    def cursor(self, consumer):
        return self.key("cursor", consumer)

    def effects(self, consumer, order_id, event_type):
        return self.key("effects", consumer, order_id, event_type)

    def outbox(self, producer):
        """The prefix of ``producer``'s outbox (its events, in commit order)."""
        return self.key("outbox", producer) + b"/"

    def range_of(self, *parts):
        """The [begin, end) of every key under PREFIX/parts/."""
        begin = self.key(*parts) + b"/"
        return begin, begin[:-1] + b"0"


def emit(tr, keys, producer, event):
    """Appends an event to ``producer``'s outbox in the caller's transaction (the outbox
    pattern)."""
    index = getattr(tr, "demo_events_emitted", 0)
    tr.demo_events_emitted = index + 1
    tr.set_versionstamped_key(keys.outbox(producer), json.dumps(event, sort_keys=True),
                              suffix=struct.pack(">H", index))


def set_int(tr, key, number):
    tr.set(key, encode_int(number))


def consume_once(kv, keys, consumer, handler):
    """Applies the next batch of events of the consumer's source outbox; returns how many it
    consumed.

    The cursor advance, the handler's effects and the effect counters commit in one
    transaction, so an event's effect happens exactly once even if the process dies at any
    point: a retry or a restarted consumer starts again from the committed cursor.
    """
    def step(tr):
        begin, end = keys.range_of("outbox", SOURCES[consumer])
        cursor = tr.get(keys.cursor(consumer))
        rows = tr.get_range(cursor + b"\x00" if cursor else begin, end,
                            limit=CONSUMER_BATCH_EVENTS)
        for _, value in rows:
            event = json.loads(value)
            if handler(tr, event):
                tr.add(keys.effects(consumer, event["order"], event["type"]), 1)
        if rows:
            tr.set(keys.cursor(consumer), rows[-1][0])
        return len(rows)
    return kv.transact(step)


def run_consumer(kv, keys, consumer, handler, log):
    """The consumer loop of a service: runs until the process ends."""
    while True:
        try:
            if consume_once(kv, keys, consumer, handler) == 0:
                time.sleep(CONSUMER_IDLE_SLEEP_S)
        except TxkvError as error:
            log.warning("%s: %s; retrying", consumer, error)
            time.sleep(CONSUMER_ERROR_SLEEP_S)


def watch_parent(parent_pid):
    """Ends this process when the demo that started it is gone (no orphans)."""
    def loop():
        while True:
            if os.getppid() != parent_pid:
                os._exit(3)
            time.sleep(0.5)
    threading.Thread(target=loop, name="parent-watch", daemon=True).start()


def service_arguments(description):
    import argparse
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--txkv", required=True, help="txkv HTTP gateway URL")
    parser.add_argument("--prefix", required=True, help="key prefix of this demo run")
    parser.add_argument("--port", type=int, required=True, help="this service's HTTP port")
    parser.add_argument("--parent-pid", type=int, default=0)
    parser.add_argument("--ca-file", help="the CA of the server's certificate (https)")
    parser.add_argument("--user", help="sign in as this user")
    parser.add_argument("--password-file", help="the file whose first line is the password")
    return parser.parse_args()


def start_service(app, args, name, consumer=None):
    """Starts the consumer thread (if any) and serves the Flask app on 127.0.0.1."""
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {name} %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if args.parent_pid:
        watch_parent(args.parent_pid)
    if consumer:
        threading.Thread(target=consumer, name=f"{name}-consumer", daemon=True).start()
    logging.getLogger(name).info("listening on 127.0.0.1:%d", args.port)
    app.run(host="127.0.0.1", port=args.port, threaded=True, use_reloader=False)


def serve_consuming(app, state, description, name, consumer, handle):
    """The life of a demo service: parse its arguments, open the store, answer /health, and
    run the Flask app beside a consumer that applies handle(tr, keys, event) to each event."""
    @app.get("/health")
    def health():
        return {"status": "ok"}

    args = service_arguments(description)
    state["kv"], state["keys"] = open_store(args), Keys(args.prefix)
    state["config"] = load_config(state["kv"], state["keys"])
    log = logging.getLogger(name)
    start_service(app, args, name, lambda: run_consumer(
        state["kv"], state["keys"], consumer, lambda tr, event: handle(tr, state["keys"], event), log))


def open_store(args):
    """The service's client: TLS with the given CA for an https URL, signed in as its own user
    when given one (the password comes from a file, never from the command line). A restarted
    service signs in again on its first call. Without --user the client's environment
    (TXKV_USER, TXKV_PASSWORD_FILE, TXKV_TOKEN_FILE) decides."""
    return KeyValueStore(args.txkv, text=False, ca_file=args.ca_file, user=args.user,
                         password_file=args.password_file)


def load_config(kv, keys):
    value = kv.get(keys.config())
    if value is None:
        raise SystemExit(f"no demo configuration at {keys.config()!r}")
    return json.loads(value)

"""Inventory service: turns reservations into sales when payment succeeds, and releases
them back to stock when it fails (the compensation of the order saga)."""
import logging

from flask import Flask, jsonify

from shared import Keys, load_config, open_store, run_consumer, service_arguments, \
    start_service

CONSUMER = "inventory"
app = Flask("inventory")
state = {}


def settle(tr, keys, event):
    """Consumer handler: reserved units become sold, or go back on the shelf."""
    if event["type"] not in ("payment_succeeded", "payment_failed"):
        return False
    sku, quantity = event["sku"], event["quantity"]
    tr.add(keys.reserved(sku), -quantity)
    if event["type"] == "payment_succeeded":
        tr.add(keys.sold(sku), quantity)
    else:
        tr.add(keys.stock(sku), quantity)
    return True


@app.get("/stock")
def stock():
    kv, keys = state["kv"], state["keys"]

    def read(tr):
        return {sku: {"stock": tr.get_int(keys.stock(sku)),
                      "reserved": tr.get_int(keys.reserved(sku)),
                      "sold": tr.get_int(keys.sold(sku))} for sku in state["config"]["skus"]}
    return jsonify(kv.transact(read))


@app.get("/health")
def health():
    return jsonify(status="ok")


def main():
    args = service_arguments(__doc__)
    state["kv"], state["keys"] = open_store(args), Keys(args.prefix)
    state["config"] = load_config(state["kv"], state["keys"])
    log = logging.getLogger("inventory")
    start_service(app, args, "inventory", lambda: run_consumer(
        state["kv"], state["keys"], CONSUMER,
        lambda tr, event: settle(tr, state["keys"], event), log))


if __name__ == "__main__":
    main()

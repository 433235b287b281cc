"""Inventory service: turns reservations into sales when payment succeeds, and releases
them back to stock when it fails (the compensation of the order saga)."""
from flask import Flask, jsonify

from shared import serve_consuming

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


def main():
    serve_consuming(app, state, __doc__, "inventory", CONSUMER, settle)


if __name__ == "__main__":
    main()

"""Order service: places orders (reserving stock and publishing "order_placed" in the same
transaction) and moves them to PAID or CANCELLED from the payment service's events."""
import json
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, jsonify, request

from shared import emit, serve_consuming, set_int

CONSUMER = "order"
app = Flask("order")
state = {}
# Flask serves each request on a new thread, and the txkv client keeps one connection per
# thread: transactions run on these long-lived threads instead, so their connections are
# reused rather than opened (with a TLS handshake) for every order.
TXKV_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="txkv")


def place_order(tr, keys, config, order_id, customer, sku, quantity):
    existing = tr.get(keys.order(order_id))
    if existing is not None:
        return json.loads(existing)      # a retried request: the order is already placed
    price = config["skus"][sku]["price"]
    order = {"id": order_id, "customer": customer, "sku": sku, "quantity": quantity,
             "amount": price * quantity}
    stock = tr.get_int(keys.stock(sku))
    if stock < quantity:
        order.update(status="CANCELLED", reason="out_of_stock", history=["CANCELLED"])
    else:
        # Reading stock made it a read conflict: two orders cannot both take the last units.
        set_int(tr, keys.stock(sku), stock - quantity)
        tr.add(keys.reserved(sku), quantity)
        order.update(status="PLACED", history=["PLACED"])
        emit(tr, keys, CONSUMER, {"order": order_id, "seq": 1, "type": "order_placed",
                                  "customer": customer, "sku": sku, "quantity": quantity,
                                  "amount": order["amount"]})
    tr.set(keys.order(order_id), json.dumps(order, sort_keys=True))
    return order


def apply_payment_outcome(tr, keys, event):
    """Consumer handler: the order's terminal state from the payment result."""
    if event["type"] not in ("payment_succeeded", "payment_failed"):
        return False
    order = json.loads(tr.get(keys.order(event["order"])))
    status = "PAID" if event["type"] == "payment_succeeded" else "CANCELLED"
    order["status"] = status
    if status == "CANCELLED":
        order["reason"] = "payment_failed"
    order["history"].append(status)
    tr.set(keys.order(event["order"]), json.dumps(order, sort_keys=True))
    return True


@app.post("/orders")
def post_order():
    body = request.get_json(force=True)
    config = state["config"]
    if body.get("sku") not in config["skus"] or body.get("customer") not in config["accounts"]:
        return jsonify(error="unknown sku or customer"), 400
    quantity = int(body.get("quantity", 0))
    if not 1 <= quantity <= 100:
        return jsonify(error="quantity must be 1 to 100"), 400
    order = TXKV_THREADS.submit(state["kv"].transact, lambda tr: place_order(
        tr, state["keys"], config, str(body["id"]), body["customer"], body["sku"],
        quantity)).result()
    return jsonify(order)


@app.get("/orders/<order_id>")
def get_order(order_id):
    value = state["kv"].get(state["keys"].order(order_id))
    if value is None:
        return jsonify(error="no such order"), 404
    return jsonify(json.loads(value))


def main():
    serve_consuming(app, state, __doc__, "order", CONSUMER, apply_payment_outcome)


if __name__ == "__main__":
    main()

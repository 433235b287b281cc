"""Payment service: charges each placed order exactly once (money moves from the customer
to the merchant account) and publishes "payment_succeeded" or "payment_failed"."""
import json

from flask import Flask, jsonify

from shared import emit, serve_consuming

CONSUMER = "payment"
MERCHANT = "merchant"
app = Flask("payment")
state = {}


def charge(tr, keys, event):
    """Consumer handler: the payment of one "order_placed" event."""
    if event["type"] != "order_placed":
        return False
    order_id, customer, amount = event["order"], event["customer"], event["amount"]
    balance = tr.get_int(keys.account(customer))
    outcome = "payment_succeeded" if balance >= amount else "payment_failed"
    if outcome == "payment_succeeded":
        tr.add(keys.account(customer), -amount)
        tr.add(keys.account(MERCHANT), amount)
    tr.set(keys.payment(order_id), json.dumps({"order": order_id, "customer": customer,
                                               "amount": amount, "outcome": outcome}))
    emit(tr, keys, CONSUMER, {"order": order_id, "seq": event["seq"] + 1, "type": outcome,
                              "sku": event["sku"], "quantity": event["quantity"],
                              "amount": amount})
    return True


@app.get("/accounts")
def accounts():
    kv, keys = state["kv"], state["keys"]
    begin, end = keys.range_of("account")
    return jsonify({key[len(begin):].decode(): int.from_bytes(value, "little", signed=True)
                    for key, value in kv.get_range(begin, end)})


def main():
    serve_consuming(app, state, __doc__, "payment", CONSUMER, charge)


if __name__ == "__main__":
    main()

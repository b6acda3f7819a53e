"""Makes docs/dashboard.png: a node with four models under changing
traffic for about a minute (one model paused for a while, one paused at
the end, a poison event parked), then a screenshot of the dashboard.

    python3 tests/admin/dashboard_screenshot.py \\
        --node build/apps/bus-node/bus-node --out docs/dashboard.png
"""

import argparse
import math
import threading
import time

from node_driver import Node, user_event
from webdriver import Browser

MODELS = [
    {"name": "user_listing", "kind": "document", "key": "id",
     "merge_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"],
     "require": ["email"], "on_error": {"attempts": 1, "backoff_ms": 1}},
    {"name": "user_by_email", "kind": "index", "key": "email", "target": "id",
     "set_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"]},
    {"name": "order_status", "kind": "document", "key": "order_id",
     "upsert_on": ["OrderPlaced"], "merge_on": ["OrderShipped"]},
    {"name": "last_order_of_user", "kind": "index", "key": "user", "target": "order_id",
     "set_on": ["OrderPlaced"]},
]


def order_event(n):
    return {"id": "o%d" % n, "type": "OrderPlaced",
            "payload": {"order_id": "order-%d" % n, "user": "u%d" % (n % 300),
                        "amount_cents": 100 * (n % 97)}}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--node", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    node = Node(args.node, MODELS)
    done = threading.Event()
    start = time.monotonic()

    def traffic():
        n = 1000
        while not done.wait(0.1):
            t = time.monotonic() - start
            per_tick = int(25 + 20 * math.sin(t / 6))  # 50-450 events/s
            batch = []
            for _ in range(per_tick):
                n += 1
                batch.append(order_event(n) if n % 3 else user_event(n, "u%d" % (n % 299)))
            node.publish(batch)

    try:
        node.publish([user_event(n, "u%d" % n) for n in range(1, 300)]
                     + [user_event(300, "guest-7", email=False),
                        user_event(301, "guest-7")])
        feeder = threading.Thread(target=traffic, daemon=True)
        feeder.start()
        browser = Browser(window=(1280, 940))  # a viewport of about 800
        try:
            browser.open(node.url)
            at = args.seconds
            time.sleep(at * 0.2)
            node.post("/models/order_status/pause")
            time.sleep(at * 0.25)
            node.post("/models/order_status/resume")
            time.sleep(at * 0.35)
            node.post("/models/user_listing/pause")
            time.sleep(at * 0.2)
            with open(args.out, "wb") as f:
                f.write(browser.screenshot())
        finally:
            browser.quit()
            done.set()
            feeder.join(30)
    finally:
        node.stop()


if __name__ == "__main__":
    main()

"""The dashboard (GET /) in headless Chromium against a real bus-node
--admin: it shows the node's models, its charts move with the traffic, a
pause click shows up in GET /status, and the parked events can be retried
and discarded from the page, with the API's errors shown."""

import argparse
import sys
import threading
import unittest

from node_driver import Node, user_event
from webdriver import Browser

NODE = SCREENSHOT = None

MODELS = [
    {"name": "user_listing", "kind": "document", "key": "id",
     "merge_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"],
     "require": ["email"], "on_error": {"attempts": 1, "backoff_ms": 1}},
    {"name": "user_by_email", "kind": "index", "key": "email", "target": "id",
     "set_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"]},
]

CARD = 'article[data-model="%s"]'
CHART = CARD + ' .chart[data-series="%s"] svg'


class Traffic(threading.Thread):
    """Publishes a few events every 100 ms, so that the charts have
    something to show; stops when told."""

    def __init__(self, node, first):
        super().__init__(daemon=True)
        self.node, self.n, self.done = node, first, threading.Event()

    def run(self):
        while not self.done.wait(0.1):
            batch = [user_event(k, "u%d" % (k % 40)) for k in range(self.n, self.n + 20)]
            self.n += 20
            self.node.publish(batch)


class Dashboard(unittest.TestCase):
    def setUp(self):
        self.node = Node(NODE, MODELS)
        self.addCleanup(self.node.stop)
        # e150 (key p1) has no email: parked; e151 (key p1) parks behind it.
        self.node.publish([user_event(n, "u%d" % (n % 40)) for n in range(1, 150)]
                          + [user_event(150, "p1", email=False), user_event(151, "p1")])
        traffic = Traffic(self.node, 1000)
        traffic.start()
        self.addCleanup(traffic.join, 30)
        self.addCleanup(traffic.done.set)
        self.browser = Browser()
        self.addCleanup(self.browser.quit)

    def samples(self, model, series):
        return self.browser.script(
            "const s = document.querySelector(arguments[0]);"
            "return s ? [Number(s.dataset.samples || 0),"
            "            s.querySelector('polyline').getAttribute('points')] : [0, ''];",
            CHART % (model, series))

    def test_dashboard(self):
        b, node = self.browser, self.node
        b.open(node.url)

        # The page shows every model of the node, in the node's order.
        _, status = node.get("/status")
        names = [m["model"] for m in status["read_models"]]
        shown = b.wait_for("a card per model", """
            const xs = [...document.querySelectorAll('article.model')]
              .map(a => a.dataset.model);
            return xs.length === arguments[0] ? xs : null;""", len(names))
        self.assertEqual(shown, names)
        self.assertEqual(b.script("return document.title"), "bus dashboard")
        b.wait_for("the link marked live",
                   "return document.getElementById('link').dataset.link === 'live'")

        # The charts update live: more samples, another line, traffic seen.
        before = self.samples("user_by_email", "throughput")
        b.wait_for("three more samples", """
            const s = document.querySelector(arguments[0]);
            return Number(s.dataset.samples) >= arguments[1] + 3;""",
                   CHART % ("user_by_email", "throughput"), before[0])
        after = self.samples("user_by_email", "throughput")
        self.assertNotEqual(after[1], before[1])
        b.wait_for("a throughput above 0", """
            const c = document.querySelector(arguments[0] + ' .chart[data-series="throughput"] .current');
            return c && /^[1-9]/.test(c.textContent);""", CARD % "user_by_email")

        # The poison event and the one behind it are listed with their error.
        row = CARD % "user_listing" + ' .parked tr[data-seq="%d"]'
        text = b.wait_for("the parked event 150", """
            const r = document.querySelector(arguments[0]);
            return r && r.textContent;""", row % 150)
        self.assertIn("lacks the required field 'email'", text)
        b.wait_for("the parked event 151", "return !!document.querySelector(arguments[0])",
                   row % 151)

        # An error of the API is shown: 151 waits behind 150 (409).
        b.click(row % 151 + ' button[data-action="retry"]')
        shown = b.wait_for("the error of the refused retry", """
            const e = document.querySelector('#errors .error');
            return e && e.textContent;""")
        self.assertIn("HTTP 409", shown)
        self.assertIn("seq 151 of user_listing", shown)

        # A click on pause shows up in GET /status, then on the page.
        b.click(CARD % "user_listing" + ' button[data-action="pause"]')
        node.wait_for("user_listing paused in /status",
                      lambda: node.model("user_listing")["state"] == "paused")
        b.wait_for("the paused badge", """
            const a = document.querySelector(arguments[0]);
            return a.dataset.state === 'paused'
                && a.querySelector('.state').textContent === 'paused';""",
                   CARD % "user_listing")
        # Its lag grows while the traffic goes on, and the lag chart shows it.
        b.wait_for("a lag above 0 on the lag chart", """
            const c = document.querySelector(arguments[0] + ' .chart[data-series="lag"] .current');
            return c && /^[1-9]/.test(c.textContent);""", CARD % "user_listing")
        if SCREENSHOT:
            with open(SCREENSHOT, "wb") as f:
                f.write(b.screenshot())

        # Discard the poison event from the page; 151 can then be retried.
        b.click(row % 150 + ' button[data-action="discard"]')
        node.wait_for("150 discarded", lambda: [
            p for p in node.get("/models/user_listing/parked")[1]["parked"]
            if p["event"]["id"] == "e150"] == [])
        b.wait_for("150 gone from the page", "return !document.querySelector(arguments[0])",
                   row % 150)
        b.click(row % 151 + ' button[data-action="retry"]')
        node.wait_for("nothing parked", lambda:
                      node.get("/models/user_listing/parked")[1]["parked"] == [])
        b.wait_for("the parked list hidden",
                   "return document.querySelector(arguments[0]).hidden",
                   CARD % "user_listing" + " .parked")

        # Resume from the page.
        b.click(CARD % "user_listing" + ' button[data-action="resume"]')
        node.wait_for("user_listing running again", lambda:
                      node.model("user_listing")["state"] in ("running", "catching_up"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--node", required=True)
    parser.add_argument("--screenshot")
    args, rest = parser.parse_known_args()
    NODE, SCREENSHOT = args.node, args.screenshot
    unittest.main(argv=[sys.argv[0], "-v"] + rest)

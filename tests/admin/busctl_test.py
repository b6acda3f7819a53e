"""busctl end to end: every command against a real bus-node --admin, its
output, its exit code and its --json (docs/operations.md, "busctl")."""

import argparse
import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
import unittest

from node_driver import Node, free_port, user_event

BUSCTL = NODE = None
# Every busctl run is bounded; a hang fails the test instead of the suite.
RUN_TIMEOUT = 60

# The node's default models, with user_listing requiring an email: an event
# without one is a poison event, parked after one attempt.
POISON_MODELS = [
    {"name": "user_listing", "kind": "document", "key": "id",
     "merge_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"],
     "require": ["email"], "on_error": {"attempts": 1, "backoff_ms": 1}},
    {"name": "user_by_email", "kind": "index", "key": "email", "target": "id",
     "set_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"]},
]


def busctl(node_or_address, *args, env=None):
    """Runs busctl; returns (exit code, stdout, stderr)."""
    address = node_or_address if isinstance(node_or_address, str) else node_or_address.address
    full_env = {k: v for k, v in os.environ.items() if k != "BUSCTL_ADMIN"}
    full_env.update(env or {})
    cmd = [BUSCTL] + (["--admin", address] if address else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                       env=full_env)
    return p.returncode, p.stdout, p.stderr


def commas(n):
    return "{:,}".format(n)


class CommandLine(unittest.TestCase):
    def test_help_lists_every_command(self):
        code, out, _ = busctl("", "--help")
        self.assertEqual(code, 0)
        for cmd in ["status", "lag", "health", "pause", "resume", "restart", "rebuild",
                    "parked", "retry", "discard", "events", "watch"]:
            self.assertRegex(out, r"\n  %s " % cmd)
        self.assertIn("Exit status", out)

    def test_version(self):
        code, out, _ = busctl("", "--version")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^busctl \d+\.\d+\.\d+\n$")

    def test_usage_errors_exit_2(self):
        for args in [[], ["nosuch"], ["pause"], ["retry", "m", "-3"],
                     ["events", "--limit", "0"], ["watch", "--interval", "0"],
                     ["--admin", "no-port", "status"], ["pause", ""],
                     ["--admin", "127.0.0.1:0", "status"]]:
            code, _, err = busctl("", *args)
            self.assertEqual(code, 2, args)
            self.assertTrue(err.strip(), args)

    def test_bad_address_in_the_environment_is_named(self):
        code, _, err = busctl("", "status", env={"BUSCTL_ADMIN": "nohost"})
        self.assertEqual(code, 2)
        self.assertIn("BUSCTL_ADMIN", err)

    def test_unreachable_endpoint_exits_3(self):
        address = "127.0.0.1:%d" % free_port()
        for args in [["status"], ["pause", "user_listing"], ["--json", "lag"]]:
            code, out, err = busctl(address, *args)
            self.assertEqual(code, 3, args)
            self.assertIn("cannot reach the admin endpoint at " + address, err)
            self.assertEqual(out, "")


class Steering(unittest.TestCase):
    """The default models on a node with 200 events."""

    @classmethod
    def setUpClass(cls):
        cls.node = Node(NODE)
        cls.node.publish([user_event(n) for n in range(1, 201)])

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()

    def test_status_is_a_table_of_every_model(self):
        code, out, _ = busctl(self.node, "status")
        self.assertEqual(code, 0, out)
        _, status = self.node.get("/status")
        lines = out.splitlines()
        self.assertEqual(lines[0], "bus node, head %s, 2 read models"
                         % commas(status["head"]))
        self.assertRegex(lines[2], r"^MODEL +STATE +CHECKPOINT +LAG +LAG TIME +APPLIED")
        rows = {l.split()[0]: l.split() for l in lines[3:]}
        self.assertEqual(set(rows), {m["model"] for m in status["read_models"]})
        for m in status["read_models"]:
            self.assertEqual(rows[m["model"]][1], m["state"])
            self.assertEqual(rows[m["model"]][2], commas(m["checkpoint"]))

    def test_status_json_is_the_endpoints(self):
        code, out, _ = busctl(self.node, "status", "--json")
        self.assertEqual(code, 0)
        got = json.loads(out)
        _, want = self.node.get("/status")
        self.assertEqual(got["head"], want["head"])
        self.assertEqual([m["model"] for m in got["read_models"]],
                         [m["model"] for m in want["read_models"]])

    def test_lag_shows_checkpoint_head_and_lag(self):
        code, out, _ = busctl(self.node, "lag")
        self.assertEqual(code, 0)
        _, status = self.node.get("/status")
        self.assertRegex(out, r"MODEL +STATE +CHECKPOINT +HEAD +LAG +LAG TIME")
        for m in status["read_models"]:
            self.assertRegex(out, r"\n%s +\S+ +[\d,]+ +%s +%s " % (
                m["model"], commas(status["head"]), commas(m["lag_events"])))
        code, out, _ = busctl(self.node, "--json", "lag")
        self.assertEqual(json.loads(out)["head"], status["head"])

    def test_health_of_running_models_exits_0(self):
        code, out, _ = busctl(self.node, "health")
        self.assertEqual(code, 0, out)
        self.assertTrue(out.startswith("healthy\n"))
        code, out, _ = busctl(self.node, "health", "--json")
        self.assertEqual(code, 0)
        self.assertIs(json.loads(out)["healthy"], True)

    def test_pause_resume_and_restart_show_in_status(self):
        code, out, _ = busctl(self.node, "pause", "user_by_email")
        self.assertEqual((code, out), (0, "user_by_email: paused\n"))
        self.assertEqual(self.node.model("user_by_email")["state"], "paused")
        code, out, _ = busctl(self.node, "health")
        self.assertEqual(code, 4, out)
        self.assertIn("user_by_email", out)
        code, out, _ = busctl(self.node, "--json", "resume", "user_by_email")
        self.assertEqual(code, 0)
        self.assertEqual(json.loads(out)["model"], "user_by_email")
        self.node.wait_for("user_by_email running", lambda:
                           self.node.model("user_by_email")["state"] == "running")
        code, out, _ = busctl(self.node, "restart", "user_listing")
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"^user_listing: \w+\n$")
        self.node.wait_for("user_listing running", lambda:
                           self.node.model("user_listing")["state"] == "running")

    def test_unknown_model_exits_1_with_the_nodes_message(self):
        status, body = self.node.post("/models/nosuch/pause")
        message = body["error"]["message"]
        for cmd in ["pause", "resume", "restart", "rebuild", "parked", "retry", "discard"]:
            code, out, err = busctl(self.node, cmd, "nosuch")
            self.assertEqual(code, 1, cmd)
            self.assertIn(message, err, cmd)
            self.assertIn("HTTP 404", err, cmd)
        code, out, err = busctl(self.node, "--json", "pause", "nosuch")
        self.assertEqual(code, 1)
        self.assertEqual(json.loads(out)["error"]["message"], message)

    def test_events_pages_through_the_log(self):
        code, out, _ = busctl(self.node, "events", "--from", "2", "--limit", "3")
        self.assertEqual(code, 0, out)
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^SEQ +APPENDED \(UTC\) +TYPE +ID +PAYLOAD$")
        for line, seq in zip(lines[1:4], [2, 3, 4]):
            self.assertRegex(line, r"^ *%d +\d{4}-\d\d-\d\d [\d:.]+ +UserCreated +e%d +\{"
                             % (seq, seq))
        self.assertEqual(lines[4], "more: busctl events --from 5 (head %s)"
                         % commas(self.node.model("user_listing")["checkpoint"]))
        code, out, _ = busctl(self.node, "events", "--from", "2", "--limit", "3", "--json")
        page = json.loads(out)
        self.assertEqual([e["seq"] for e in page["events"]], [2, 3, 4])
        self.assertEqual(page["next"], 5)

    def test_watch_refreshes_count_times(self):
        code, out, _ = busctl(self.node, "watch", "--count", "3", "--interval", "0.2")
        self.assertEqual(code, 0)
        self.assertEqual(out.count("busctl watch " + self.node.address), 3)
        self.assertEqual(out.count("\nuser_listing "), 3)
        self.assertIn(" RATE ", out)
        code, out, _ = busctl(self.node, "--json", "watch", "--count", "2",
                              "--interval", "0.1")
        frames = [json.loads(l) for l in out.splitlines()]
        self.assertEqual(len(frames), 2)
        self.assertIn("read_models", frames[1])

    def test_watch_ends_on_sigint(self):
        p = subprocess.Popen([BUSCTL, "--admin", self.node.address, "watch",
                              "--interval", "0.2"], stdout=subprocess.PIPE, text=True)
        try:
            first = p.stdout.readline()  # bounded by the CTest TIMEOUT
            self.assertIn("busctl watch", first)
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(RUN_TIMEOUT), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()


class Untrusted(unittest.TestCase):
    """What publishers wrote reaches the operator's terminal as text."""

    def test_events_escape_control_characters_in_every_column(self):
        node = Node(NODE)
        try:
            hostile = {"id": "e1\x1b[2J\nfake row", "type": "X\x1b]0;pwned\x07\u009b",
                       "payload": {"id": "u1"}}
            node.publish([hostile, user_event(2)])
            code, out, _ = busctl(node, "events")
            self.assertEqual(code, 0, out)
            for c in ["\x1b", "\x07", "\u009b"]:
                self.assertNotIn(c, out)
            lines = out.splitlines()
            self.assertEqual(len(lines), 4, out)  # header, two events, footer
            self.assertIn("e1\\x1b[2J\\x0afake row", lines[1])
            self.assertIn("X\\x1b]0;pwned\\x07\\x9b", lines[1])
        finally:
            node.stop()


class ScriptedEndpoint:
    """An admin endpoint answering from a script: GET /status answers the
    next of `statuses` (the last one again once they run out), POST
    answers `posted`. For what a real node shows only by chance of timing."""

    def __init__(self, statuses, posted):
        import http.server
        import threading
        script = {"statuses": list(statuses), "posted": posted}

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self, body):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                queue = script["statuses"]
                self.answer(queue.pop(0) if len(queue) > 1 else queue[0])

            def do_POST(self):
                self.answer(script["posted"])

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def model_status(state, rebuilds, restarts, checkpoint, head):
    return {"head": head, "read_models": [
        {"model": "m", "state": state, "checkpoint": checkpoint, "lag_events": head - checkpoint,
         "rebuilds": rebuilds, "restarts": restarts, "applied": checkpoint, "parked": 0,
         "last_error": ""}]}


class RebuildReplaced(unittest.TestCase):
    def test_a_rebuild_whose_projector_was_replaced_ends_once_caught_up(self):
        # Restarted mid-rebuild, the model's new projector counts its
        # rebuilds from 0: busctl waited for the count to pass 3 for ever.
        endpoint = ScriptedEndpoint(
            [model_status("running", 3, 0, 100, 100),
             model_status("rebuilding", 3, 0, 10, 100),
             model_status("running", 0, 1, 100, 100)],
            {"model": "m", "state": "rebuilding"})
        try:
            code, out, err = busctl(endpoint.address, "rebuild", "m")
            self.assertEqual(code, 0, out + err)
            self.assertIn("m: caught up at checkpoint 100", out)
        finally:
            endpoint.stop()


class RebuildWithinASecond(unittest.TestCase):
    def test_a_rebuild_done_at_the_first_poll_prints_a_rate_above_zero(self):
        # Caught up before a second sample: busctl printed "0 events/s".
        endpoint = ScriptedEndpoint(
            [model_status("running", 3, 0, 100, 100),
             model_status("running", 4, 0, 100, 100)],
            {"model": "m", "state": "rebuilding"})
        try:
            code, out, err = busctl(endpoint.address, "rebuild", "m")
            self.assertEqual(code, 0, out + err)
            lines = out.splitlines()
            self.assertRegex(lines[1], r"^m: running 100/100 \(100%\), [\d,]+ events/s, ")
            self.assertNotRegex(lines[1], r" 0 events/s", out)
            self.assertRegex(lines[-1], r"^m: caught up at checkpoint 100 in .+ "
                                        r"\([\d,]+ events/s\)$")
            self.assertNotRegex(lines[-1], r"\(0 events/s\)", out)
        finally:
            endpoint.stop()


class Rebuild(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = Node(NODE)
        cls.node.publish([user_event(n) for n in range(1, 3001)])

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()

    def test_rebuild_prints_progress_lines_until_caught_up(self):
        before = self.node.model("user_listing")["rebuilds"]
        code, out, err = busctl(self.node, "rebuild", "user_listing")
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], "user_listing: rebuilding")
        progress = [l for l in lines[1:-1]]
        self.assertTrue(progress)
        for line in progress:
            self.assertRegex(line, r"^user_listing: \w+ [\d,]+/[\d,]+ \(\d+%\), "
                                   r"[\d,]+ events/s, ETA \S+")
        self.assertRegex(progress[-1], r" 3,000/3,000 \(100%\)")
        self.assertRegex(lines[-1], r"^user_listing: caught up at checkpoint 3,000 in ")
        m = self.node.model("user_listing")
        self.assertEqual(m["rebuilds"], before + 1)
        self.assertEqual((m["state"], m["checkpoint"]), ("running", 3000))

    def test_rebuild_on_a_terminal_draws_a_bar(self):
        main, sub = pty.openpty()
        p = subprocess.Popen([BUSCTL, "--admin", self.node.address, "rebuild",
                              "user_by_email"], stdout=sub, stderr=sub, close_fds=True)
        os.close(sub)
        out = b""
        try:
            while True:
                try:
                    chunk = os.read(main, 4096)  # EOF (EIO) once busctl exits
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            self.assertEqual(p.wait(RUN_TIMEOUT), 0, out)
        finally:
            os.close(main)
            if p.poll() is None:
                p.kill()
                p.wait()
        text = out.decode()
        self.assertIn("\ruser_by_email [" + "#" * 30 + "] 100%", text)
        self.assertIn("ETA", text)
        self.assertRegex(text, r"user_by_email: caught up at checkpoint 3,000 in ")

    def test_rebuild_no_wait_returns_at_once(self):
        code, out, _ = busctl(self.node, "rebuild", "--no-wait", "user_listing")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^user_listing: \w+\n$")


class Parking(unittest.TestCase):
    """user_listing requires an email: e2 (key p1) has none and is parked,
    e3 (key p1) parks behind it, e5 (key p2) has none too."""

    @classmethod
    def setUpClass(cls):
        cls.node = Node(NODE, POISON_MODELS)
        cls.node.publish([user_event(1, "p0"), user_event(2, "p1", email=False),
                          user_event(3, "p1"), user_event(4, "p0"),
                          user_event(5, "p2", email=False)])
        cls.node.wait_for("3 parked", lambda: cls.node.model("user_listing")["parked"] == 3)

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()

    def parked(self):
        code, out, _ = busctl(self.node, "--json", "parked", "user_listing")
        self.assertEqual(code, 0)
        return json.loads(out)["parked"]

    def test_parked_retry_and_discard(self):
        code, out, _ = busctl(self.node, "health")
        self.assertEqual(code, 4)
        self.assertRegex(out, r"^unhealthy: .*user_listing")

        code, out, _ = busctl(self.node, "parked", "user_listing")
        self.assertEqual(code, 0, out)
        self.assertTrue(out.startswith("user_listing: 3 parked\n"))
        self.assertRegex(out, r"\n +2 +e2 +UserCreated +p1 +failed +1 +[\d-]+ [\d:.]+ +"
                              r"event 'e2' \(UserCreated\) lacks the required field 'email'")
        self.assertRegex(out, r"\n +3 +e3 +UserCreated +p1 +behind 2 +0 ")
        self.assertRegex(out, r"\n +5 +e5 +UserCreated +p2 +failed +1 ")

        # A poison event retried fails again: still parked, one more attempt.
        code, out, err = busctl(self.node, "retry", "user_listing", "2")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "user_listing: retried 0 events, 3 still parked\n")
        self.assertEqual([p["attempts"] for p in self.parked() if p["event"]["id"] == "e2"],
                         [2])
        # An event behind another of its key cannot be retried first.
        code, _, err = busctl(self.node, "retry", "user_listing", "3")
        self.assertEqual(code, 1)
        self.assertIn("HTTP 409", err)
        # Nor can a seq that is not parked.
        code, _, err = busctl(self.node, "discard", "user_listing", "4")
        self.assertEqual(code, 1)
        self.assertIn("HTTP 404 not_parked", err)

        code, out, _ = busctl(self.node, "discard", "user_listing", "2")
        self.assertEqual((code, out), (0, "user_listing: discarded 1 event, 2 still parked\n"))
        code, out, _ = busctl(self.node, "retry", "user_listing", "3")
        self.assertEqual((code, out), (0, "user_listing: retried 1 event, 1 still parked\n"))
        _, doc = self.node.get("/status")
        self.assertEqual([p["event"]["id"] for p in self.parked()], ["e5"])

        code, out, _ = busctl(self.node, "--json", "discard", "user_listing")
        self.assertEqual(code, 0)
        reply = json.loads(out)
        self.assertEqual((reply["done"], reply["parked"]), (1, []))
        code, out, _ = busctl(self.node, "parked", "user_listing")
        self.assertEqual((code, out), (0, "user_listing: no parked events\n"))
        self.node.wait_for("user_listing running", lambda:
                           self.node.model("user_listing")["state"] == "running")
        code, out, _ = busctl(self.node, "health")
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--busctl", required=True)
    parser.add_argument("--node", required=True)
    args, rest = parser.parse_known_args()
    BUSCTL, NODE = args.busctl, args.node
    unittest.main(argv=[sys.argv[0], "-v"] + rest)

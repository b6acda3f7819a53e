"""A bus-node run for the admin tests: started with --admin 127.0.0.1:0, its
port read from stderr, its stdin kept open for events, its replies read
back, and every wait bounded by a deadline (never a fixed sleep)."""

import json
import os
import queue
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

ADMIN_LINE = re.compile(r"admin endpoint on http://([^/\s]+)/")


class Node:
    def __init__(self, node_path, models=None, extra_args=(), start_timeout=60):
        self.tmp = tempfile.TemporaryDirectory(prefix="bus-admin-test-")
        args = [node_path, "--admin", "127.0.0.1:0", *extra_args]
        if models is not None:
            config = os.path.join(self.tmp.name, "node.json")
            with open(config, "w") as f:
                json.dump({"read_models": models}, f)
            args += ["--config", config]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, bufsize=1, start_new_session=True)
        self.stderr_lines = []
        self.replies = {}
        self.cond = threading.Condition()
        self.next_id = 0
        self.lock = threading.Lock()
        self.address = None
        self.readers = [threading.Thread(target=self._read_stderr, daemon=True),
                        threading.Thread(target=self._read_stdout, daemon=True)]
        for t in self.readers:
            t.start()
        deadline = time.monotonic() + start_timeout
        with self.cond:
            while self.address is None:
                if self.proc.poll() is not None:
                    raise RuntimeError("bus-node exited %s before its admin endpoint "
                                       "was up:\n%s" % (self.proc.returncode,
                                                        "".join(self.stderr_lines)))
                left = deadline - time.monotonic()
                if left <= 0:
                    self.stop()
                    raise RuntimeError("no 'admin endpoint on' line on bus-node's "
                                       "stderr within %d s" % start_timeout)
                self.cond.wait(min(left, 0.2))
        self.url = "http://%s/" % self.address

    def _read_stderr(self):
        for line in self.proc.stderr:
            with self.cond:
                self.stderr_lines.append(line)
                m = ADMIN_LINE.search(line)
                if m and self.address is None:
                    self.address = m.group(1)
                self.cond.notify_all()

    def _read_stdout(self):
        for line in self.proc.stdout:
            try:
                body = json.loads(line)["body"]
            except (ValueError, KeyError):
                continue
            with self.cond:
                self.replies[body.get("in_reply_to")] = body
                self.cond.notify_all()

    def send(self, body):
        """Writes one request; returns its msg_id."""
        with self.lock:
            self.next_id += 1
            body = dict(body, msg_id=self.next_id)
            self.proc.stdin.write(json.dumps({"src": "test", "dest": "node",
                                              "body": body}) + "\n")
            self.proc.stdin.flush()
            return self.next_id

    def reply(self, msg_id, timeout=30):
        deadline = time.monotonic() + timeout
        with self.cond:
            while msg_id not in self.replies:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError("no reply to msg_id %d within %d s"
                                       % (msg_id, timeout))
                self.cond.wait(left)
            return self.replies.pop(msg_id)

    def publish(self, events, timeout=60):
        """Sends events and waits for every reply."""
        ids = [self.send({"type": "event", "event": e}) for e in events]
        return [self.reply(i, timeout) for i in ids]

    def get(self, path, timeout=10):
        """GET on the admin endpoint: (HTTP status, parsed JSON body)."""
        return http("GET", self.url + path.lstrip("/"), timeout)

    def post(self, path, timeout=30):
        return http("POST", self.url + path.lstrip("/"), timeout)

    def model(self, name):
        status, body = self.get("/status")
        assert status == 200, body
        for m in body["read_models"]:
            if m["model"] == name:
                return m
        raise KeyError(name)

    def wait_for(self, what, predicate, timeout=30):
        """Polls `predicate` until it returns a true value; fails after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %d s waiting for %s"
                                     % (timeout, what))
            time.sleep(0.05)

    def stop(self, timeout=20):
        """Closes stdin (the node finishes and exits), killing it if it hangs."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        for t in self.readers:  # both end at the pipes' EOF
            t.join(5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.tmp.cleanup()


def http(method, url, timeout=10):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as err:
        body = err.read()
        try:
            return err.code, json.loads(body)
        except ValueError:
            return err.code, body.decode(errors="replace")


def free_port():
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def user_event(n, key=None, email=True):
    payload = {"id": key or "u%d" % n, "name": "User %d" % n}
    if email:
        payload["email"] = "u%d@shop.example" % n
    return {"id": "e%d" % n, "type": "UserCreated", "payload": payload}

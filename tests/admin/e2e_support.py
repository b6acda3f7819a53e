"""Helpers of the admin endpoint's end-to-end test (admin_e2e.py): child
processes with stdin kept open, HTTP calls, and a strict parser of
Prometheus' text format. Every wait polls with a deadline."""

import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

DEADLINE = 30.0  # seconds for any one thing to happen


def poll(check, what, timeout=DEADLINE):
    """Calls check() until it returns a true value, failing after timeout."""
    end = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


class Process:
    """A child with stdin kept open, stdout and stderr read by threads."""

    def __init__(self, argv):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.err = []
        self.err_lock = threading.Lock()
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def _read_err(self):
        for line in self.proc.stderr:
            with self.err_lock:
                self.err.append(line.rstrip("\n"))

    def stderr_text(self):
        with self.err_lock:
            return "\n".join(self.err)

    def url(self):
        def found():
            if self.proc.poll() is not None:
                raise AssertionError("%s exited %s: %s" % (self.argv[0], self.proc.returncode,
                                                          self.stderr_text()))
            m = re.search(r"admin endpoint on (http://[^ ]+/)", self.stderr_text())
            return m.group(1) if m else None
        return poll(found, "the admin endpoint of " + os.path.basename(self.argv[0]))

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def reply(self):
        try:
            return self.lines.get(timeout=DEADLINE)
        except queue.Empty:
            raise AssertionError("no reply from " + self.argv[0] + "; stderr: "
                                 + self.stderr_text())

    def stop(self):
        try:
            return self._stop()
        finally:
            for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                try:
                    pipe.close()
                except OSError:
                    pass

    def _stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            if "bus-projector" in self.argv[0]:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class Http:
    def __init__(self, url):
        self.url = url.rstrip("/")
        m = re.match(r"http://([^:/]+):(\d+)", url)
        self.host, self.port = m.group(1), int(m.group(2))

    def call(self, method, path, body=None):
        """Returns (status, headers, body text)."""
        req = urllib.request.Request(self.url + path, method=method, data=body)
        try:
            with urllib.request.urlopen(req, timeout=DEADLINE) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def json(self, method, path, expect=200):
        status, headers, text = self.call(method, path)
        assert status == expect, "%s %s: %d %s" % (method, path, status, text)
        assert headers["Content-Type"] == "application/json", headers["Content-Type"]
        return json.loads(text)

    def error(self, method, path, status, code):
        got, headers, text = self.call(method, path)
        assert got == status, "%s %s: expected %d, got %d %s" % (method, path, status, got,
                                                                 text)
        assert headers["Content-Type"] == "application/json"
        body = json.loads(text)
        assert body["error"]["code"] == code, text
        assert body["error"]["message"], text
        return body["error"]["message"], headers

    def raw(self, data):
        """Sends bytes on a fresh connection; returns all it gets back."""
        with socket.create_connection((self.host, self.port), timeout=DEADLINE) as s:
            s.sendall(data)
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return b"".join(chunks).decode(errors="replace")
                chunks.append(chunk)


def event(msg_id, event_id, type_, payload):
    return json.dumps({"src": "c", "dest": "n", "body": {
        "type": "event", "msg_id": msg_id,
        "event": {"id": event_id, "type": type_, "payload": payload}}})


def protocol_status(node, msg_id):
    node.send(json.dumps({"src": "c", "dest": "n",
                          "body": {"type": "status", "msg_id": msg_id}}))
    body = json.loads(node.reply())["body"]
    assert body["type"] == "status_ok", body
    del body["type"], body["in_reply_to"]
    return body


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? '
                    r'(-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$')


def parse_metrics(text):
    """Parses Prometheus' text format strictly; returns {(name, labels): value}."""
    samples = {}
    typed = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in typed, "family declared twice: " + name
            assert kind in ("counter", "gauge", "histogram"), line
            typed[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m, "not a Prometheus sample line: " + repr(line)
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
        assert family in typed, "sample before its TYPE line: " + line
        pairs = tuple(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels))
        samples[(name, pairs)] = float(value)
    return samples


def model_labels(model, role="live"):
    return (("model", model), ("role", role))

"""Headless Chromium through chromedriver's W3C WebDriver HTTP protocol,
with nothing but the Python standard library."""

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from node_driver import free_port

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C element key

# Without the background-networking flags Chromium reaches for Google's
# services at start, which a closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--hide-scrollbars"]


class WebDriverError(RuntimeError):
    pass


class Browser:
    def __init__(self, chromedriver="chromedriver", start_timeout=75,
                 window=(1280, 1000)):
        path = shutil.which(chromedriver)
        if path is None:
            # Not a skip: CI installs chromium-driver (config/dependencies.txt).
            raise WebDriverError("%s is not installed (Debian packages chromium and "
                                 "chromium-driver)" % chromedriver)
        self.profile = tempfile.TemporaryDirectory(prefix="bus-dashboard-chromium-",
                                                   ignore_cleanup_errors=True)
        self.log = open(os.path.join(self.profile.name, "chromedriver.log"), "w+")
        port = free_port()
        self.base = "http://127.0.0.1:%d" % port
        self.proc = subprocess.Popen([path, "--port=%d" % port], stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.session = None
        deadline = time.monotonic() + start_timeout
        try:
            while True:
                try:
                    if self._call("GET", "/status", timeout=5).get("ready"):
                        break
                except (OSError, WebDriverError):
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise WebDriverError("chromedriver did not get ready:\n" + self._log())
                time.sleep(0.1)
            args = CHROMIUM_ARGS + ["--window-size=%d,%d" % window,
                                    "--user-data-dir=" + os.path.join(self.profile.name,
                                                                      "profile")]
            caps = {"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"args": args}}}}
            left = max(5, deadline - time.monotonic())
            self.session = self._call("POST", "/session", caps, timeout=left)["sessionId"]
        except BaseException:
            self.quit()
            raise

    def _log(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-4000:]

    def _call(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else (
            b"{}" if method == "POST" else None)
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                value = json.loads(res.read())["value"]
        except urllib.error.HTTPError as err:
            value = json.loads(err.read()).get("value", {})
        if isinstance(value, dict) and "error" in value:
            raise WebDriverError("%s %s: %s: %s" % (method, path, value["error"],
                                                    value.get("message", "")[:500]))
        return value

    def cmd(self, method, path, body=None, timeout=30):
        return self._call(method, "/session/%s%s" % (self.session, path), body, timeout)

    def open(self, url):
        self.cmd("POST", "/url", {"url": url}, timeout=60)

    def script(self, js, *args):
        """Runs `js` as a function body in the page; returns its value."""
        return self.cmd("POST", "/execute/sync", {"script": js, "args": list(args)})

    def find(self, css):
        found = self.cmd("POST", "/element", {"using": "css selector", "value": css})
        if ELEMENT not in found:
            raise WebDriverError("no element %s: %r" % (css, found))
        return found[ELEMENT]

    def click(self, css):
        self.cmd("POST", "/element/%s/click" % self.find(css))

    def screenshot(self):
        return base64.b64decode(self.cmd("GET", "/screenshot", timeout=60))

    def wait_for(self, what, js, *args, timeout=30):
        """Polls `js` in the page until it returns a true value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.script(js, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %d s waiting for %s in the page"
                                     % (timeout, what))
            time.sleep(0.1)

    def quit(self):
        if self.session is not None:
            try:
                self._call("DELETE", "/session/" + self.session, timeout=20)
            except (OSError, WebDriverError):
                pass
            self.session = None
        if self.proc.poll() is None:
            # chromedriver and the Chromium it started: their own process group.
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
        self.log.close()
        self.profile.cleanup()

"""Starts `gavel serve` on a free port (--port 0; the port is read from its start line) and
stops it with SIGTERM, checking that it shut down cleanly; JSON requests to it."""
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest


class Server:
    def __init__(self, gavel_bin, model, store, *args, env=None):
        cmd = [str(gavel_bin), "serve", "--model", str(model), "--store", str(store),
               "--port", "0", *map(str, args)]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})
        self.log = []
        deadline = time.time() + 120
        self.url = None
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            m = re.search(r"listening on (http://[\d.]+:\d+)", line)
            if m:
                self.url = m.group(1)
                break
        if not self.url:
            self.proc.kill()
            pytest.fail(f"gavel serve did not start: {' '.join(cmd)}\n{''.join(self.log)}"
                        f"{self.proc.stderr.read()[-4000:]}")
        # Keep draining stderr so a chatty server never blocks on a full pipe.
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()

    def _read_rest(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                pytest.fail("gavel serve did not stop within 60 s of SIGTERM")
            self._drain.join(timeout=5)
            assert rc == 0, f"gavel serve exited {rc}:\n{''.join(self.log[-50:])}"


def request(url, body=None, timeout=600):
    """(status, JSON body) of a GET (body None) or a JSON POST; HTTP errors are answers too."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as f:
            return f.status, json.loads(f.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())

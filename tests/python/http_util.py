"""Helpers for the HTTP-backend tests: start engines on 127.0.0.1 (the fake engine of
fake_engine.py, llama.cpp's llama-server, llama-cpp-python's server), wait until they answer,
stop them; a small input of LLMBar pairs."""
import contextlib
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

HERE = pathlib.Path(__file__).resolve().parent
VENV_PY = pathlib.Path(os.environ.get("GAVEL_VENV", pathlib.Path.home() / ".cache/gavel/venv")) / "bin/python"
SERVER_DIR = pathlib.Path(os.environ.get("GAVEL_LLAMA_SERVER_DIR", pathlib.Path.home() / ".cache/gavel/llama-server"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, path, timeout=180, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode} before answering {url}{path}")
        try:
            with urllib.request.urlopen(url + path, timeout=5) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url}{path} did not answer within {timeout} s")


class Fake:
    """One fake engine process; restartable on the same port."""

    def __init__(self, kind, gguf, tmp, *args, port=None):
        self.kind, self.gguf, self.args = kind, str(gguf), list(args)
        self.port = port or free_port()
        self.log = pathlib.Path(tmp) / f"fake-{self.port}.log"
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        cmd = [str(VENV_PY), str(HERE / "fake_engine.py"), "--kind", self.kind, "--gguf", self.gguf,
               "--port", str(self.port), "--log", str(self.log), *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT"):
            raise AssertionError(f"fake engine did not start: {cmd}")
        return self

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def requests(self):
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


@contextlib.contextmanager
def fake(kind, gguf, tmp, *args):
    f = Fake(kind, gguf, tmp, *args).start()
    try:
        yield f
    finally:
        f.kill()


def llama_server_bin():
    """The llama-server scripts/build_llama_server.sh builds for this CPU (never another cached
    build: an older one, made with AMX, crashed on Sapphire Rapids)."""
    r = subprocess.run([str(HERE.parents[1] / "scripts/build_llama_server.sh"), "--path"],
                       capture_output=True, text=True, env=dict(os.environ, GAVEL_LLAMA_SERVER_DIR=str(SERVER_DIR)))
    path = r.stdout.strip()
    if r.returncode != 0:
        pytest.fail(f"llama-server missing at {path or SERVER_DIR} (run scripts/setup.sh, which builds it)"
                    f"{r.stderr[-500:]}")
    return path


def llama_server_cmd(model, port, *args, threads=2, ctx=4096, slots=1):
    """llama-server as the embedded engine computes: one slot, flash attention off (its default
    'auto' turns it on for the CPU, which sums attention in another order)."""
    return [llama_server_bin(), "-m", str(model), "--host", "127.0.0.1", "--port", str(port), "-t", str(threads),
            "-c", str(ctx), "-np", str(slots), "-fa", "off", "--no-webui", *args]


# OpenMP threads that spin at barriers lose most of their time on a host busier than its cores;
# llama.cpp's build uses OpenMP, gavel's engine a pool that sleeps.
SERVER_ENV = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")


@contextlib.contextmanager
def llama_server(model, *args, threads=2, ctx=4096, slots=1):
    port = free_port()
    cmd = llama_server_cmd(model, port, *args, threads=threads, ctx=ctx, slots=slots)
    log = open(os.devnull, "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=SERVER_ENV)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, "/health", proc=proc)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def shortest_pairs(shared_dir, n):
    """The n LLMBar pairs with the shortest texts (keeps real-model tests fast)."""
    rows = [json.loads(x) for x in open(shared_dir / "data/bench/llmbar/pairs.jsonl")]
    rows.sort(key=lambda r: len(r["instruction"]) + len(r["response_a"]) + len(r["response_b"]))
    return rows[:n]


def store_count(gavel_bin, store):
    r = subprocess.run([str(gavel_bin), "store", "count", "--store", str(store)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip().split()[0])

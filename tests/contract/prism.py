"""Prism (npm package @stoplight/prism-cli, installed by `npm ci` from package.json) serving a mock
of Twilio's REST API generated from Twilio's own OpenAPI spec, `../shared/twilio/twilio_api_v2010.json`.

The mock validates every request against the spec (a Calls.json POST without `From` gets a 422
naming it) and answers valid ones with a response generated from the spec's schema. It runs in
dynamic mode (`-d`): the spec's examples carry one fixed sid (CAaaaa...) for every call, whereas
Hotline stores each leg's sid under a unique constraint (calls.call_sid, callback_attempts.
caller_leg_sid), as Twilio's sids are. Dynamic sids follow the spec's pattern `^CA[0-9a-fA-F]{32}$`.

Used by tests/contract and bench/callbacks_placed.py.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PRISM = ROOT / "node_modules" / ".bin" / "prism"
# shared/ lies beside the repository, for developers and for CI's fresh clone alike.
SPEC = ROOT.parent / "shared" / "twilio" / "twilio_api_v2010.json"


class Unavailable(Exception):
    """Prism cannot be run here (no Node, not installed, no spec): the reason, for a skip."""


class StartFailed(Exception):
    """Prism is installed but did not come up."""


def why_unavailable() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed: the contract tests need it for Prism's mock of Twilio's REST API"
    if not PRISM.exists():
        return (f"Prism is not installed ({PRISM.relative_to(ROOT)} is missing): run `npm ci` in the "
                "repository's root")
    if not SPEC.exists():
        return f"Twilio's OpenAPI spec is not at {SPEC} (the shared folder beside the repository)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Prism:
    process: subprocess.Popen
    url: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            # Its own process group (start_new_session): node and anything it forked.
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


def start(log_path: Path, dynamic: bool = True, startup_seconds: float = 60.0) -> Prism:
    """Start `prism mock` on a free port of 127.0.0.1 and wait until it answers HTTP."""
    reason = why_unavailable()
    if reason:
        raise Unavailable(reason)
    last_error = ""
    for _ in range(3):  # a port taken between free_port() and Prism's bind: try another
        port = free_port()
        args = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(SPEC)]
        if dynamic:
            args.insert(2, "-d")
        log = open(log_path, "ab")
        try:
            process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       cwd=ROOT, start_new_session=True)
        finally:
            log.close()
        prism = Prism(process, f"http://127.0.0.1:{port}", log_path)
        deadline = time.monotonic() + startup_seconds
        while time.monotonic() < deadline and process.poll() is None:
            try:
                requests.get(prism.url + "/", timeout=1).close()  # any answer (a 404) will do
                return prism
            except requests.RequestException:
                time.sleep(0.2)
        last_error = prism.log_tail()
        prism.stop()
    raise StartFailed(f"Prism did not answer within {startup_seconds:.0f} s:\n{last_error}")

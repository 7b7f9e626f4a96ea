#!/usr/bin/env python3
"""How fast are the IVR webhooks, next to a bare Flask route, under the same gunicorn settings?

    .venv/bin/python bench/ivr_throughput.py [--duration 10] [--connections 32] [--postgres URL]

One run builds a throwaway hotline (a temp dir with a migrated SQLite database, or a temp database
on the PostgreSQL server at --postgres, dropped afterwards; always-open hours; six available
consultants), then serves, one after the other, the real app (`hotline.wsgi:app`) and
`bench/bare_app.py` with the Procfile's gunicorn settings (gthread, 2 workers x 4 threads) on
127.0.0.1, and drives each with the same load: pre-signed Twilio webhook POSTs replayed by wrk
(bench/signed_requests.lua), or, without wrk, by a Python load generator in separate processes.
Each server first gets a warm-up: the calls' first steps, sent once each (by the Python
generator, in order), so that the measured load starts with calls at every step.

The load is whole calls, four requests each, in equal parts:
  /ivr/voice                  a new CallSid (opens the call, greets, language menu)
  /ivr/language?attempt=0     Digits: bg 30%, en 20%, ru 15%, uk 15%, ar 10%, fa 5%, tr 5%
  /ivr/topic?attempt=0        Digits 1-6 evenly: routes to a consultant (a <Dial>), or "all busy"
  /ivr/status                 CallStatus=completed: closes the call, releases its consultant
A call's next step is sent 16+ calls later (4 x 16+ requests, more than the connections, so its
previous answer is in well before) and many calls are between their topic and status at once, so
the six consultants are mostly reserved: most topic requests find nobody free, as on a busy day;
the figures say how many were dialled.
Every IVR answer must be a 200 with a <Response> body; anything else, and every apology TwiML
(the error handler's "technical problem"), is counted and shown.

Not part of the test suite: it takes about 35 s with the defaults and wants the machine to itself.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import multiprocessing
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from twilio.request_validator import RequestValidator  # noqa: E402

from bench.stand_ins import ACCOUNT_SID, ALWAYS_OPEN, AUTH_TOKEN, TwilioStandIn, hotline_env, log_failures  # noqa: E402

__all__ = ["ACCOUNT_SID", "ALWAYS_OPEN", "AUTH_TOKEN"]  # for the benches that build on this one
LUA_SCRIPT = Path(__file__).resolve().parent / "signed_requests.lua"
WORKERS, THREADS = 2, 4  # the Procfile's web process (WEB_CONCURRENCY defaults to 2)
WARMUP_LIMIT = 60  # seconds at most for the warm-up (its requests are sent once each)
STREAMS = 2  # wrk threads / Python load processes; each replays its own stream of calls
RATE_CAP = 1500  # requests/s the IVR streams last for (~15x what the IVR does here) before they wrap
OFFICE_NUMBERS = ("+35924916000", "+35956916000")  # Sofia, Burgas
LANGUAGE_DIGITS = ("1",) * 6 + ("2",) * 4 + ("3",) * 3 + ("4",) * 3 + ("5",) * 2 + ("6",) + ("7",)
CONSULTANTS = [  # name, office, languages, topics
    ("Bench Maria", "sofia", "bg,en", "residence,employment,health"),
    ("Bench Ivan", "sofia", "bg,ru,uk", "social,education,other"),
    ("Bench Leila", "burgas", "en,ar", "residence,health"),
    ("Bench Olena", "burgas", "ru,uk", "residence,employment,health,social"),
    ("Bench Petar", "sofia", "bg,en,tr", "residence,employment,health,education,social,other"),
    ("Bench Dariush", "sofia", "fa,en", "residence,other"),
]


# --- the throwaway hotline --------------------------------------------------------------------

def make_database(postgres: str | None, tmp: Path) -> tuple[str, Callable[[], None]]:
    """A migrated, seeded database and the function that disposes of it."""
    from hotline.migrate import upgrade

    if postgres is None:
        url = f"sqlite:///{tmp / 'hotline.sqlite3'}"
        drop = lambda: None  # noqa: E731 (the temp dir goes as a whole)
    else:
        import psycopg

        admin = postgres.replace("postgresql+psycopg://", "postgresql://")
        name = f"hotline_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    upgrade(url)
    _seed(url)
    return url, drop


def _seed(url: str) -> None:
    from hotline.accounts import create_staff
    from hotline.catalogue import load_catalogue
    from hotline.db import Database
    from hotline.models import sync_reference
    from routing import set_status

    catalogue = load_catalogue(str(ALWAYS_OPEN))
    db = Database(url)
    with db.session() as session:
        sync_reference(session, catalogue)
        for n, (name, office, languages, topics) in enumerate(CONSULTANTS):
            staff = create_staff(session, catalogue, name=name, role="consultant", phone=f"+35988800{n:04d}",
                                 languages=languages.split(","), topics=topics.split(","), office=office)
            set_status(session, staff, "available")
    db.dispose()


def _db_summary(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        def count(table: str, kind: str | None = None) -> int:
            sql = f"SELECT count(*) FROM {table}" + (" WHERE kind = :kind" if kind else "")
            return conn.execute(text(sql), {"kind": kind} if kind else {}).scalar_one()

        offers, all_busy = count("call_events", "offered"), count("call_events", "no_consultant")
        summary = (f"{count('calls')} calls, {count('call_events')} call events ({offers} offers, "
                   f"{all_busy} all-busy), "
                   f"{count('consultation_records')} consultation records")
    engine.dispose()
    return summary


def apology_marker() -> str:
    from hotline.catalogue import load_catalogue

    return load_catalogue(str(ALWAYS_OPEN)).prompt("en", "technical_problem")


# --- the load: pre-signed requests ------------------------------------------------------------

def write_streams(warmup: Path, load: Path, base_url: str, calls_per_stream: int, lag: int,
                  warmup_ticks: int, seed: int) -> int:
    """Write STREAMS pairs of files "<warmup>-k.txt", "<load>-k.txt" (k = 1..), one request a line:
    "path<TAB>signature<TAB>body". Returns how many requests the load files hold.

    Tick i of a stream sends voice for call i, language for call i-lag, topic for call i-2*lag and
    status for call i-3*lag: a call's steps come in order, `4*lag` requests apart. The first
    `warmup_ticks` ticks (the ramp-up, when not every step has calls yet) go to the warm-up file,
    which is sent in full before the load file; so the load starts in the steady state, with the
    calls that the warm-up left half-way through going on."""
    rng = random.Random(seed)
    validator = RequestValidator(AUTH_TOKEN)
    total = 0
    for k in range(1, STREAMS + 1):
        calls = []
        for _ in range(calls_per_stream):
            calls.append({"CallSid": "CA" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID,
                          "From": f"+35988{rng.randrange(10**7):07d}", "To": rng.choice(OFFICE_NUMBERS),
                          "ApiVersion": "2010-04-01", "Direction": "inbound", "FromCountry": "BG",
                          "ToCountry": "BG"})
        steps = (
            ("/ivr/voice", lambda c: {**c, "CallStatus": "ringing"}),
            ("/ivr/language?attempt=0",
             lambda c: {**c, "CallStatus": "in-progress", "Digits": rng.choice(LANGUAGE_DIGITS)}),
            ("/ivr/topic?attempt=0",
             lambda c: {**c, "CallStatus": "in-progress", "Digits": str(rng.randint(1, 6))}),
            ("/ivr/status",
             lambda c: {**c, "CallStatus": "completed", "CallDuration": str(rng.randint(20, 300)),
                        "CallbackSource": "call-progress-events", "SequenceNumber": "0"}),
        )
        with open(f"{warmup}-{k}.txt", "w") as warm, open(f"{load}-{k}.txt", "w") as measured:
            for tick in range(calls_per_stream + 3 * lag):
                out = warm if tick < warmup_ticks else measured
                for step, (path, params_of) in enumerate(steps):
                    i = tick - step * lag
                    if 0 <= i < calls_per_stream:
                        params = params_of(calls[i])
                        signature = validator.compute_signature(base_url + path, params)
                        out.write(f"{path}\t{signature}\t{urllib.parse.urlencode(params)}\n")
                        total += out is measured
    return total


def run_wrk(wrk: str, base_url: str, prefix: Path, marker: str, connections: int, duration: int) -> dict:
    cmd = [wrk, f"-t{min(STREAMS, connections)}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
           "-s", str(LUA_SCRIPT), base_url + "/", "--", str(prefix), marker]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    found = re.search(r"^RESULT (.*)$", out.stdout, re.M)
    if not found:
        raise SystemExit(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    result = {key: int(value) for key, value in (pair.split("=") for pair in found.group(1).split())}
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    result["socket_errors"] = sum(result[k] for k in ("connect", "read", "write", "timeout"))
    result["error_lines"] = re.findall(r"^ERROR .*$", out.stdout, re.M)
    return result


def _classify(status: int, body: str, marker: str) -> str:
    """What an answer was, as signed_requests.lua counts it."""
    if status != 200 or "<Response" not in body:
        return "bad"
    for key, needle in (("apologies", marker), ("dialled", "<Dial"), ("hung_up", "<Hangup"),
                        ("menus", "<Gather")):
        if needle in body:
            return key
    return "empty"


class _Replay:
    """One load process's stream, shared by its connections in order, and what they measured."""

    def __init__(self, stream: str, marker: str, once: bool):
        self.requests = []
        with open(stream) as fh:
            for line in fh:
                path, signature, body = line.rstrip("\n").split("\t", 2)
                self.requests.append((path, body.encode(), {
                    "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature,
                    "User-Agent": "TwilioProxy/1.1"}))
        self.marker, self.once = marker, once
        self.lock = threading.Lock()
        self.pos = self.wrapped = 0
        self.counts = dict.fromkeys(("ok", "bad", "apologies", "dialled", "hung_up", "menus", "empty",
                                     "socket_errors", "bytes", "sent_voice", "sent_language", "sent_topic",
                                     "sent_status"), 0)
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def next_request(self) -> tuple[str, bytes, dict[str, str]] | None:
        with self.lock:
            if self.pos == len(self.requests):
                if self.once:
                    return None
                self.pos, self.wrapped = 0, self.wrapped + 1
            self.pos += 1
            return self.requests[self.pos - 1]

    def error(self, text: str) -> None:
        with self.lock:
            if len(self.errors) < 5:
                self.errors.append("ERROR " + text)

    def connection(self, host: str, port: int, deadline: float) -> None:
        """One keep-alive connection sending requests one after the other until the deadline."""
        conn = http.client.HTTPConnection(host, port, timeout=10)
        latencies, counts = [], dict.fromkeys(self.counts, 0)
        while time.monotonic() < deadline and (request := self.next_request()) is not None:
            path, body, headers = request
            kind = "sent_" + path.split("?")[0].removeprefix("/ivr/")
            counts[kind] = counts.get(kind, 0) + 1
            start = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as error:
                counts["socket_errors"] += 1
                self.error(f"{type(error).__name__}: {error}")
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
                continue
            latencies.append(time.perf_counter() - start)
            text = data.decode("utf-8", "replace")
            key = _classify(response.status, text, self.marker)
            counts[key] += 1
            counts["bytes"] += len(data)
            if key == "bad":
                self.error(f"status={response.status} body={' '.join(text[:200].split())}")
            else:
                counts["ok"] += 1
        conn.close()
        with self.lock:
            self.latencies.extend(latencies)
            for key, value in counts.items():
                self.counts[key] = self.counts.get(key, 0) + value


def _python_stream(host: str, port: int, stream: str, threads: int, duration: float, marker: str, once: bool,
                   out) -> None:
    """One load process: `threads` keep-alive connections replaying one stream until the deadline
    (or, `once`, until each request was sent once)."""
    replay = _Replay(stream, marker, once)
    started = time.time()
    deadline = time.monotonic() + duration
    workers = [threading.Thread(target=replay.connection, args=(host, port, deadline))
               for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.put({**replay.counts, "wrapped": replay.wrapped, "latencies": replay.latencies,
             "errors": replay.errors, "started": started, "ended": time.time()})


def run_python(base_url: str, prefix: Path, marker: str, connections: int, duration: float,
               once: bool = False) -> dict:
    parsed = urllib.parse.urlsplit(base_url)
    streams = min(STREAMS, connections)
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_python_stream, daemon=True, args=(
        parsed.hostname, parsed.port, f"{prefix}-{k}.txt",
        connections // streams + (k <= connections % streams), duration, marker, once, results))
        for k in range(1, streams + 1)]
    for proc in procs:
        proc.start()
    parts = [results.get(timeout=duration + 60) for _ in procs]
    elapsed = max(part["ended"] for part in parts) - min(part["started"] for part in parts)
    for proc in procs:
        proc.join(timeout=10)
    latencies = sorted(lat for part in parts for lat in part["latencies"])
    result = {key: sum(part[key] for part in parts) for key in parts[0]
              if key not in ("latencies", "errors", "started", "ended")}

    def pick(q: float) -> int:
        return int(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e6) if latencies else 0

    result.update(requests=len(latencies) + result["socket_errors"], duration_us=int(elapsed * 1e6),
                  p50_us=pick(0.50), p99_us=pick(0.99), max_us=pick(1.0),
                  error_lines=[line for part in parts for line in part["errors"]][:5])
    result["rate"] = len(latencies) / elapsed
    return result


# --- the servers ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_command(app: str, port: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", str(WORKERS),
            "--threads", str(THREADS), "--bind", f"127.0.0.1:{port}", "--forwarded-allow-ips", "*", app]


def wait_ready(proc: subprocess.Popen, port: int, timeout: float = 60) -> None:
    """Until each worker can answer (any HTTP status will do)."""
    deadline = time.monotonic() + timeout
    answered = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode} before it was ready")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            answered += 1
            if answered >= 2 * WORKERS:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not answer on port {port} within {timeout:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def workers_cpu_seconds(master: int) -> float | None:
    """User + system CPU time used so far by the gunicorn master's workers (Linux /proc)."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        total = 0
        for pid in children:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def measure(label: str, app: str, env: dict, port: int, tmp: Path, generate, marker: str, args) -> dict:
    log_path = tmp / f"{label}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(gunicorn_command(app, port), cwd=REPO, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        wait_ready(proc, port)
        # The warm-up is sent in full (and in order) before the load, whatever generates the load.
        warmup = run_python(env["PUBLIC_BASE_URL"], tmp / "warmup", marker, args.connections, WARMUP_LIMIT,
                            once=True)
        cpu_before = workers_cpu_seconds(proc.pid)
        result = generate(tmp / "load", marker, args.connections, args.duration)
        cpu_after = workers_cpu_seconds(proc.pid)
    finally:
        stop(proc)
    result["warmup"] = warmup
    result["cpu_ms"] = (1000 * (cpu_after - cpu_before) / max(result["requests"], 1)
                        if cpu_before is not None and cpu_after is not None else float("nan"))
    result["log_errors"] = log_failures(log_path)
    return result


# --- report -----------------------------------------------------------------------------------

def failures(label: str, r: dict) -> list[str]:
    """Every failure counted for one server's run (its warm-up included), with its reason: the
    answers that were not a 200 <Response> and the socket errors (the first few, as the load
    generator kept them), apologies, and the error lines of the server's log."""
    warm = r.get("warmup") or {}
    counted = {"bad answers": r["bad"], "socket errors/timeouts": r["socket_errors"],
               "apologies (technical problem)": r.get("apologies", 0),
               "errors in the server log (tracebacks, ERROR lines)": len(r["log_errors"]),
               "bad answers in the warm-up": warm.get("bad", 0),
               "socket errors in the warm-up": warm.get("socket_errors", 0),
               "apologies in the warm-up": warm.get("apologies", 0)}
    if not any(counted.values()):
        return []
    lines = [f"{label} failures: " + ", ".join(f"{n:,} {what}" for what, n in counted.items() if n)]
    if r.get("socket_errors") and "connect" in r:  # wrk says only which kind of socket error
        lines.append("  socket errors (wrk): " + ", ".join(f"{kind} {r[kind]}" for kind in
                                                            ("connect", "read", "write", "timeout")))
    reasons = r["error_lines"] + warm.get("error_lines", []) + r["log_errors"][:5]
    lines += ["  " + line[:300] for line in reasons]
    if (r["bad"] or r["socket_errors"] or warm.get("bad") or warm.get("socket_errors")) and \
            not (r["error_lines"] or warm.get("error_lines")):
        lines.append("  (the load generator kept no reason)")
    return lines


def _row(label: str, r: dict) -> str:
    errors = r["bad"] + r["socket_errors"]
    return (f"{label:<5} {r['rate']:>10,.1f} {r['p50_us'] / 1000:>9.2f} ms {r['p99_us'] / 1000:>9.2f} ms "
            f"{r['max_us'] / 1000:>9.1f} ms {r['requests']:>10,} {errors:>7,} {r['cpu_ms']:>10.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load per server (10)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections (32)")
    parser.add_argument("--postgres", metavar="URL",
                        help="a PostgreSQL server (e.g. postgresql://postgres@127.0.0.1:5432/postgres): a "
                             "temporary database is made there and dropped afterwards; default: SQLite")
    parser.add_argument("--python-load", action="store_true",
                        help="use the Python load generator even if wrk is installed")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 120 or not 1 <= args.connections <= 1024:
        parser.error("--duration must be 1-120 s and --connections 1-1024")

    wrk = None if args.python_load else shutil.which("wrk")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    marker = apology_marker()
    tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    drop = drop_floor = lambda: None  # noqa: E731
    stack = contextlib.ExitStack()
    try:
        database_url, drop = make_database(args.postgres, tmp)
        (tmp / "floor").mkdir()
        floor_url, drop_floor = make_database(args.postgres, tmp / "floor")
        lag = max(16, args.connections // STREAMS)
        calls = RATE_CAP // (4 * STREAMS) * args.duration + 4 * lag
        total = write_streams(tmp / "warmup", tmp / "load", base_url, calls, lag, warmup_ticks=4 * lag,
                              seed=1)

        if wrk:
            generate = lambda prefix, marker, conns, secs: run_wrk(wrk, base_url, prefix, marker, conns, secs)  # noqa: E731
            loader = (f"wrk -t{min(STREAMS, args.connections)} -c{args.connections} -d{args.duration}s "
                      "-s bench/signed_requests.lua")
        else:
            generate = lambda prefix, marker, conns, secs: run_python(base_url, prefix, marker, conns, secs)  # noqa: E731
            loader = (f"Python load generator, {min(STREAMS, args.connections)} processes, "
                      f"{args.connections} keep-alive connections, {args.duration}s")
        api = stack.enter_context(TwilioStandIn())
        env = hotline_env(database_url, api.url, instance=tmp / "instance", public_base_url=base_url)
        floor_env = hotline_env(floor_url, api.url, instance=tmp / "instance", public_base_url=base_url)

        load_before = os.getloadavg()[0]
        bare = measure("bare", "bench.bare_app:app", env, port, tmp, generate, marker, args)
        floor = measure("floor", "bench.floor_app:app", floor_env, port, tmp, generate, marker, args)
        ivr = measure("ivr", "hotline.wsgi:app", env, port, tmp, generate, marker, args)
        summary = _db_summary(database_url)
        stand_in, stand_in_failed = api.summary(), bool(api.failures)
    finally:
        stack.close()
        try:
            drop()
            drop_floor()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"gunicorn --worker-class gthread --workers {WORKERS} --threads {THREADS} on 127.0.0.1, "
          f"{os.cpu_count()} CPUs (load average {load_before:.2f} before), database: {backend}")
    print(f"load: {loader}, each after a warm-up of {ivr['warmup']['requests']:,} requests "
          f"(the ramp-up of the calls); {total:,} signed requests ready for the IVR load")
    print()
    print(f"{'':<5} {'req/s':>10} {'p50':>12} {'p99':>12} {'max':>12} {'requests':>10} {'errors':>7} "
          f"{'CPU/req':>13}")
    print(_row("bare", bare))
    print(_row("floor", floor))
    print(_row("ivr", ivr))
    ratio = ivr["rate"] / bare["rate"] if bare["rate"] else 0.0
    print(f"ratio ivr/bare req/s: {ratio:.3f} (issue 11's goal >= 0.15); CPU/req ivr/bare: "
          f"{ivr['cpu_ms'] / bare['cpu_ms']:.1f} (goal <= 7); p99 ivr/bare: "
          f"{ivr['p99_us'] / max(bare['p99_us'], 1):.1f}x")
    print(f"the stack's floor (bench/floor_app.py: signature, read + write + journal + commit in SQLAlchemy "
          f"Core): CPU/req floor/bare {floor['cpu_ms'] / bare['cpu_ms']:.1f}, ivr/floor "
          f"{ivr['cpu_ms'] / floor['cpu_ms']:.1f}; req/s floor/bare {floor['rate'] / bare['rate']:.3f}, "
          f"ivr/floor {ivr['rate'] / floor['rate']:.3f}")
    print()
    print(f"IVR answers: {ivr['ok']:,} were 200 with <Response>: {ivr['menus']:,} menus, {ivr['dialled']:,} "
          f"dialled a consultant, {ivr['hung_up']:,} all-busy hang-ups, {ivr['empty']:,} empty (status); "
          f"{ivr['apologies']:,} apologies (technical problem)")
    print(f"IVR requests sent: {ivr['sent_voice']:,} voice, {ivr['sent_language']:,} language, "
          f"{ivr['sent_topic']:,} topic, {ivr['sent_status']:,} status")
    if ivr["wrapped"]:  # (the bare app ignores what it is sent, so its replays do not matter)
        print(f"note: the IVR run used up its request stream and replayed it ({ivr['wrapped']}x): "
              "replayed CallSids are existing calls, cheaper than new ones")
    found = [line for label, r in (("bare", bare), ("floor", floor), ("ivr", ivr))
             for line in failures(label, r)]
    print("failures: " + ("none (bare, floor and IVR)" if not found else "(each with its reason)"))
    for line in found:
        print("  " + line)
    for line in stand_in:
        print(line)
    print(f"database afterwards: {summary}")
    extra = f" --postgres {shlex.quote(args.postgres)}" if args.postgres else ""
    extra += " --python-load" if args.python_load else ""
    print(f"reproduce: .venv/bin/python bench/ivr_throughput.py --duration {args.duration} "
          f"--connections {args.connections}{extra}")
    return 1 if found or stand_in_failed else 0


if __name__ == "__main__":
    sys.exit(main())

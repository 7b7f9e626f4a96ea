#!/usr/bin/env python3
"""From "I'm available" to the consultant's phone ringing: `rq worker` against `hotline worker`.

    .venv/bin/python bench/available_to_ring.py [--samples 30] [--redis redis://127.0.0.1:6379/10] \
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

One caller waits in the queue (English, health) and one consultant who could take them is on a
break. Timed: from the start of the consultant's `PUT /api/consultants/<id>/status` {"status":
"available"} (the Flask app in this process, its test client) until Twilio's REST API receives the
`calls.create` that rings them (bench/stand_ins.py's TwilioStandIn, a small HTTP server in this
process, stands in for Twilio's API and notes when each request arrives). Between the two: the
request commits the status and enqueues
`offer_next_caller_job` in Redis, a worker process runs it (routing picks and reserves the caller,
ringing them is a POST to the stand-in). After each sample the caller is marked gone and the
consultant put back on a break, directly in the database; a new caller waits for the next one.

Two workers, each a separate process on a throwaway PostgreSQL database (dropped afterwards) and
the Redis database of --redis (emptied: give it one of your own):
  before   rq worker --with-scheduler hotline  (a work horse forked per job; it builds the app)
  after    hotline worker                      (the app built once; jobs run in the process)
Prints the median, p90 and max per worker (goal: median under 100 ms). Not part of the test suite.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import redis  # noqa: E402
from sqlalchemy import update  # noqa: E402
from throwaway_db import postgres_database  # noqa: E402

from bench.seeding import bench_env, fresh_app  # noqa: E402
from bench.stand_ins import TwilioStandIn  # noqa: E402
from hotline import accounts  # noqa: E402
from hotline.models import Call, QueueEntry, Staff, utcnow  # noqa: E402
from routing import queues  # noqa: E402

BIN = Path(sys.executable).parent
WORKERS = {
    "before": lambda url: [str(BIN / "rq"), "worker", "--with-scheduler", "--url", url, "hotline"],
    "after": lambda url: [str(BIN / "hotline"), "worker"],
}


def make_hotline(db_url: str, redis_url: str, api_url: str, instance: Path):
    """The app of this process (the web side), the worker's environment, a consultant and their token."""
    env = bench_env(db_url, redis_url, api_url, instance)
    app = fresh_app(env)
    hotline = app.extensions["hotline"]
    with hotline.db.session() as session:
        staff = accounts.create_staff(session, hotline.catalogue, name="Bench Consultant",
                                      role="consultant", phone="+359888000001", languages=["en"],
                                      topics=["health"], office="sofia")
        staff.status = "break"
        session.commit()
        token = accounts.issue_token(session, staff)
        return app, env, staff.id, token


def caller_waits(app, number: int) -> str:
    """A new English/health caller in the queue; returns their call sid."""
    with app.extensions["hotline"].db.session() as session:
        call = Call(call_sid=f"CA{number:032d}", direction="inbound", caller_number=f"+35989{number:07d}",
                    called_number="+35924916000", office_code="sofia", language_code="en",
                    topic_code="health", stage="queued", started_at=utcnow())
        session.add(call)
        session.commit()
        queues.enqueue(session, call)
        session.commit()
        return call.call_sid


def reset(app, staff_id: int, call_sid: str) -> None:
    """The caller is gone and the consultant back on a break (no job, no webhook)."""
    with app.extensions["hotline"].db.session() as session:
        session.execute(update(QueueEntry).where(QueueEntry.call_sid == call_sid)
                        .values(state="abandoned", ended_at=utcnow(), result="hangup"))
        session.execute(update(Staff).where(Staff.id == staff_id)
                        .values(status="break", current_call_sid=None, wrap_up_until=None))
        session.commit()


def run(app, env: dict, command: list[str], api: TwilioStandIn, staff_id: int, token: str, samples: int,
        warmup: int, folder: Path, label: str) -> list[float]:
    """Start the worker, time `samples` rings after `warmup` untimed ones; returns seconds each."""
    client = app.test_client()
    log = (folder / f"{label}.log").open("wb")
    worker = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    app.extensions["hotline"].redis.flushdb()
    try:
        time.sleep(3)  # the worker starts (its app, its scheduler)
        seconds = []
        for i in range(warmup + samples):
            call_sid = caller_waits(app, hash(label) % 1000 * 100000 + i)
            rung_before = len(api.arrivals)
            start = time.perf_counter()
            response = client.put(f"/api/consultants/{staff_id}/status", json={"status": "available"},
                                  headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.get_data(as_text=True)
            rang = api.wait_for_calls(rung_before + 1, timeout=10)
            if i >= warmup:
                seconds.append(rang - start)
            time.sleep(0.2)  # the job's own commits after the ring
            reset(app, staff_id, call_sid)
        return seconds
    finally:
        worker.terminate()
        worker.wait(30)
        log.close()


def report(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[int(0.9 * (len(ms) - 1))]
    print(f"{label:7} {command_label(label):40} n={len(ms):3}  median {statistics.median(ms):7.1f} ms  "
          f"p90 {p90:7.1f} ms  min {ms[0]:6.1f}  max {ms[-1]:7.1f} ms", flush=True)


def command_label(label: str) -> str:
    return {"before": "rq worker --with-scheduler (fork per job)", "after": "hotline worker"}[label]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10",
                        help="a Redis database to empty and use")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="a throwaway database is made next to this one")
    parser.add_argument("--only", choices=sorted(WORKERS), help="one of the two workers")
    args = parser.parse_args()

    redis.Redis.from_url(args.redis).ping()
    print(f"PostgreSQL (throwaway next to {args.postgres.rsplit('/', 1)[0]}/...), Redis {args.redis}; "
          f"{args.samples} samples after {args.warmup} untimed; load average {os.getloadavg()[0]:.2f}",
          flush=True)
    with tempfile.TemporaryDirectory() as folder, postgres_database(args.postgres) as db_url, \
            TwilioStandIn() as api:
        app, env, staff_id, token = make_hotline(db_url, args.redis, api.url, Path(folder) / "instance")
        for label in [args.only] if args.only else ["before", "after"]:
            seconds = run(app, env, WORKERS[label](args.redis), api, staff_id, token, args.samples,
                          args.warmup, Path(folder), label)
            report(label, seconds)
        app.extensions["hotline"].redis.flushdb()
        app.extensions["hotline"].db.dispose()
        for line in api.summary():
            print(line)


if __name__ == "__main__":
    main()

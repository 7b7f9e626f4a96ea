"""Seeding a bench's hotline, shared by the bench scripts: the app on a fresh database, and
consultants, calls and callbacks as rows inserted in bulk (one INSERT per table, not the ORM's
unit of work per row)."""
from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from bench.stand_ins import ACCOUNT_SID, REPO, hotline_env, in_process_app
from hotline.migrate import upgrade
from hotline.models import Call, Callback, Staff, StaffSkill, sync_reference

__all__ = ["ACCOUNT_SID", "bench_env", "booked_rows", "consultant_rows", "fresh_app", "insert_rows", "pairs"]
OFFICE = "sofia"
# Rows per INSERT statement: a list of 100,000 rows in one statement costs the driver more than it saves.
CHUNK = 10_000


def bench_env(db_url: str, redis_url: str | None, api_url: str,
              instance: Path | None = None) -> dict[str, str]:
    """The hotline's environment for a bench (stand_ins.hotline_env): `db_url`, `redis_url` (None or
    "": fakeredis), Twilio's REST API at `api_url` (a stand-in or a mock on this machine: anything
    else raises ValueError), always-open offices, `instance` as its folder, and this checkout first
    on PYTHONPATH (for a worker process)."""
    return hotline_env(db_url, api_url, redis_url=redis_url, instance=instance, app_dir=REPO)


def fresh_app(env: dict[str, str]):
    """The app of `env` (bench_env's) in this process, on its database migrated to the latest
    schema, with the reference rows (offices, languages, topics) of its configuration, and its
    Redis database emptied."""
    upgrade(env["DATABASE_URL"])
    app = in_process_app(env)
    hotline = app.extensions["hotline"]
    hotline.redis.flushdb()  # fakeredis, or the Redis database given to the bench to empty
    with hotline.db.session() as session:
        sync_reference(session, hotline.catalogue)
    return app


def pairs(app) -> list[tuple[str, str]]:
    """Every (language, topic) of the app's configuration."""
    catalogue = app.extensions["hotline"].catalogue
    return [(lang.code, topic.code) for lang in catalogue.languages for topic in catalogue.topics]


def booked_rows(key: int, language: str, topic: str, rang: datetime, due: datetime,
                state: str) -> tuple[dict, dict]:
    """The call that booked a callback, and the callback, as rows to insert (both of id `key`). The
    call ended two minutes after it rang, with the outcome booking gives it: a call left open would
    be looked up in Twilio's REST API by the silent-call check (routing.call_end)."""
    number = f"+35988{key % 10_000_000:07d}"
    call = {"id": key, "call_sid": f"CA{key:032x}", "direction": "inbound", "caller_number": number,
            "called_number": "+35924916000", "office_code": OFFICE, "language_code": language,
            "topic_code": topic, "stage": "ended", "started_at": rang,
            "ended_at": rang + timedelta(minutes=2), "outcome": "callback"}
    callback = {"id": key, "call_id": key, "number": number, "language_code": language, "topic_code": topic,
                "office_code": OFFICE, "first_rang_at": rang, "window_start": due,
                "window_end": due + timedelta(hours=4), "due_at": due, "state": state,
                "attempts": 1 if state == "in_progress" else 0, "created_at": rang, "sms_booked": True,
                "sms_unreachable": False}
    return call, callback


def consultant_rows(n: int, language: str, topic: str, now: datetime,
                    rng: random.Random) -> tuple[dict, dict]:
    """Consultant number `n` (id n + 1), available since `now` and idle for up to an hour, with the
    one skill `language` x `topic`: their row and their skill's, to insert."""
    staff = {"id": n + 1, "name": f"consultant {n}", "role": "consultant", "phone": f"+35987{n:07d}",
             "office_code": OFFICE, "status": "available", "status_since": now, "active": True,
             "idle_since": now - timedelta(seconds=rng.randrange(3600)), "created_at": now}
    return staff, {"staff_id": n + 1, "language_code": language, "topic_code": topic}


def insert_rows(app, *, calls: Iterable[dict] = (), callbacks: Iterable[dict] = (),
                staff: Iterable[dict] = (), skills: Iterable[dict] = (),
                more: Iterable[tuple[type, list[dict]]] = ()) -> None:
    """Insert the rows given, CHUNK at a time, calls before callbacks and staff before their skills,
    then `more` ((model, rows), in order), in one transaction; then ANALYZE on PostgreSQL, so that
    its planner knows the tables' new sizes."""
    tables = [(Call, list(calls)), (Callback, list(callbacks)), (Staff, list(staff)),
              (StaffSkill, list(skills)), *((model, list(rows)) for model, rows in more)]
    with app.extensions["hotline"].db.session() as session:
        for model, rows in tables:
            for start in range(0, len(rows), CHUNK):
                session.execute(insert(model), rows[start:start + CHUNK])
        session.commit()
        if session.bind.dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
            session.commit()

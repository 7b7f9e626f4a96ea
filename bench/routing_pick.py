"""Routing benchmark: how long picking takes with 1,000 consultants and up to 10,000 waiting callers.

Three picks are timed; the first two read only, the third reserves and is rolled back:
  next caller for a consultant   pick_next.next_caller_for(session, staff, now, widen_after)
  consultant for a caller        routing.candidates.candidates(session, language, topic, office)
  a caller's consultant reserved routing.reserve_for_call(..., commit=False), rolled back (the topic
                                 webhook's pick and compare-and-set in one statement; the time
                                 includes the rollback's round trip)
at n = 1,000 / 3,000 / 10,000 waiting callers, to show how the time grows with n (goal: < 2 ms, flat).

    .venv/bin/python bench/routing_pick.py                      # a throwaway SQLite file
    .venv/bin/python bench/routing_pick.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
        # creates a throwaway database next to the one named, drops it afterwards
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session
from throwaway_db import postgres_database

import routing
from hotline.catalogue import Catalogue, load_catalogue
from hotline.db import Database
from hotline.migrate import upgrade
from hotline.models import Call, QueueEntry, Staff, StaffSkill, sync_reference, utcnow
from routing import candidates, pick_next

WIDEN_AFTER = timedelta(minutes=3)
WARM_UP = 500
STATUSES = ["available"] * 5 + ["busy"] * 3 + ["wrap_up", "break", "offline"]


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"


def add_consultants(session: Session, rng: random.Random, count: int, languages: list[str],
                    topics: list[str], offices: list[str]) -> None:
    """Consultants with 1-3 languages x 2-6 topics (every pair a skill), in a mix of states."""
    now = utcnow()
    staff_rows, skill_rows = [], []
    for i in range(count):
        staff_rows.append({
            "id": i + 1, "name": f"consultant {i}", "role": "consultant", "phone": f"+35988{i:07d}",
            "office_code": rng.choice(offices), "status": rng.choice(STATUSES), "status_since": now,
            "idle_since": now - timedelta(seconds=rng.randrange(3600)), "wrap_up_until": now,
            "active": True, "created_at": now,
        })
        for language in rng.sample(languages, rng.randint(1, 3)):
            skill_rows += [{"staff_id": i + 1, "language_code": language, "topic_code": topic}
                           for topic in rng.sample(topics, rng.randint(2, len(topics)))]
    session.execute(insert(Staff), staff_rows)
    session.execute(insert(StaffSkill), skill_rows)
    session.commit()


def add_waiting_callers(session: Session, rng: random.Random, first_id: int, count: int,
                        languages: list[str], topics: list[str], offices: list[str]) -> None:
    """Callers who rang within the last two hours; 1% urgent, 2% agreed to English or Bulgarian."""
    now = utcnow()
    calls, entries = [], []
    for call_id in range(first_id, first_id + count):
        rang = now - timedelta(seconds=rng.randrange(7200))
        language, topic, office = rng.choice(languages), rng.choice(topics), rng.choice(offices)
        sid = f"CAbench{call_id:08d}"
        calls.append({"id": call_id, "call_sid": sid, "direction": "inbound", "office_code": office,
                      "language_code": language, "topic_code": topic, "stage": "queue", "started_at": rang})
        entries.append({
            "call_id": call_id, "call_sid": sid, "language_code": language, "topic_code": topic,
            "office_code": office, "first_rang_at": rang, "entered_at": rang + timedelta(seconds=30),
            "urgent": rng.random() < 0.01, "widen_level": 0, "state": "waiting",
            "accepts_languages": rng.choice(["en", "bg,en"]) if rng.random() < 0.02 else None,
        })
    session.execute(insert(Call), calls)
    session.execute(insert(QueueEntry), entries)
    session.commit()


def timed(session: Session, samples: int, pick: Callable[[], object]) -> tuple[float, float]:
    """Median and 90th percentile of `samples` runs of `pick`, in milliseconds. Each starts with an
    empty identity map, as a web request's session does (emptying it is not timed)."""
    for _ in range(WARM_UP):  # warm caches: statements, prepared plans (after 5 runs of a shape), pages
        pick()
    times = []
    for _ in range(samples):
        session.expunge_all()
        start = time.perf_counter()
        pick()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=10)[-1]


def measure(session: Session, rng: random.Random, samples: int, consultants: list[Staff],
            catalogue: Catalogue) -> list[float]:
    """Median and p90 of both picks. `consultants` are detached with their skills loaded: the
    consultant whose status change asks for a caller."""
    now = utcnow()
    languages, topics, offices = codes(catalogue)

    def next_caller() -> None:
        pick_next.next_caller_for(session, rng.choice(consultants), now, WIDEN_AFTER)

    def consultant() -> None:
        candidates.candidates(session, rng.choice(languages), rng.choice(topics), rng.choice(offices))

    def reserved() -> None:
        routing.reserve_for_call(session, "CA" + "b" * 32, rng.choice(languages), rng.choice(topics),
                                 rng.choice(offices), commit=False)
        session.rollback()

    return [*timed(session, samples, next_caller), *timed(session, samples, consultant),
            *timed(session, samples, reserved)]


def codes(catalogue: Catalogue) -> tuple[list[str], list[str], list[str]]:
    return ([lang.code for lang in catalogue.languages], [topic.code for topic in catalogue.topics],
            [office.code for office in catalogue.offices])


def run(url: str, consultant_count: int, sizes: list[int], samples: int, seed: int) -> None:
    upgrade(url)
    database = Database(url)
    catalogue = load_catalogue()
    rng = random.Random(seed)
    try:
        with database.session() as session:
            sync_reference(session, catalogue)
            add_consultants(session, rng, consultant_count, *codes(catalogue))
            consultants = list(session.scalars(select(Staff)))  # skills load with them, before timing
            session.expunge_all()
            skills = sum(len(staff.skills) for staff in consultants) / len(consultants)
            print(f"{database.engine.dialect.name}: {consultant_count} consultants ({skills:.1f} language x "
                  f"topic skills each on average), {samples} picks per cell, load average "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; times in ms")
            print(f"{'waiting':>8} | {'next_caller_for':^19} | {'candidates':^19} | {'reserve_for_call':^19}")
            print(f"{'':>8} | {'median':>9} {'p90':>9} | {'median':>9} {'p90':>9} | {'median':>9} {'p90':>9}")
            waiting = 0
            for size in sizes:
                add_waiting_callers(session, rng, waiting + 1, size - waiting, *codes(catalogue))
                waiting = size
                session.execute(text("ANALYZE"))
                session.commit()
                nc_median, nc_p90, c_median, c_p90, r_median, r_p90 = measure(
                    session, rng, samples, consultants, catalogue)
                print(f"{size:>8} | {nc_median:>9.3f} {nc_p90:>9.3f} | {c_median:>9.3f} {c_p90:>9.3f} | "
                      f"{r_median:>9.3f} {r_p90:>9.3f}")
    finally:
        database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL, in a throwaway database")
    parser.add_argument("--consultants", type=int, default=1000)
    parser.add_argument("--sizes", default="1000,3000,10000", help="waiting callers, ascending")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    place = postgres_database(args.postgres) if args.postgres else sqlite_database()
    with place as url:
        run(url, args.consultants, sizes, args.samples, args.seed)


if __name__ == "__main__":
    main()

"""Periodic jobs on RQ's own scheduler, with no extra process.

Each periodic job is scheduled for the next slot of its interval under a job id made from the
slot (`periodic_<name>_<epoch>`, unique), so arming it again, from any number of processes, is
harmless; after each run it arms the following slot. `hotline worker` arms them every few seconds
(and `hotline db upgrade`, the release step, and `hotline run` at start), so a Redis that lost its
data has them back within seconds.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from rq import Queue
from rq.exceptions import DuplicateJobError

from hotline import runtime
from hotline.clock import utcnow
from hotline.jobs.context import job_context
from hotline.settings import Settings

log = logging.getLogger(__name__)

# name -> (module:function taking no arguments, interval)
PERIODIC: dict[str, tuple[str, timedelta]] = {
    "purge-personal-data": ("hotline.retention:purge_job", timedelta(hours=1)),
    # Offers whose answer was lost go back to waiting; free consultants meet waiting callers even
    # if the job that should have paired them was lost.
    "queue-sweep": ("routing.jobs:sweep_job", timedelta(seconds=15)),
    # Callbacks due and not in flight (their job lost with Redis, a worker died) are woken.
    "callback-reconciliation": ("callbacks.jobs:reconcile_job", timedelta(minutes=1)),
}


def intervals(settings: Settings) -> dict[str, timedelta]:
    """Each periodic job's interval: PERIODIC's, unless HOTLINE_PERIODIC_SECONDS sets it.
    Raises ValueError if that names a job PERIODIC does not have."""
    unknown = set(settings.periodic_seconds) - set(PERIODIC)
    if unknown:
        raise ValueError("HOTLINE_PERIODIC_SECONDS names unknown jobs: " + ", ".join(sorted(unknown)))
    seconds = settings.periodic_seconds
    return {name: timedelta(seconds=seconds[name]) if name in seconds else every
            for name, (_, every) in PERIODIC.items()}


def next_slot(every: timedelta, now: datetime) -> datetime:
    """The first multiple of `every` (whole seconds) since the epoch after `now` (aware, UTC)."""
    seconds = int(every.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds + seconds, timezone.utc)


def arm(queue: Queue, now: datetime | None = None, every: Mapping[str, timedelta] | None = None) -> list[str]:
    """Schedule every periodic job's next run at `every[name]` (default: PERIODIC's intervals)
    after `now`, if not scheduled already; returns the job ids. Raises redis.RedisError if Redis
    does not answer."""
    now = now or utcnow()
    every = every or {name: interval for name, (_, interval) in PERIODIC.items()}
    ids = []
    for name in PERIODIC:
        at = next_slot(every[name], now)
        job_id = f"periodic_{name}_{int(at.timestamp())}"
        try:
            queue.enqueue_at(at, run_periodic, name, job_id=job_id, unique=True)
        except DuplicateJobError:
            pass
        ids.append(job_id)
    return ids


def run_periodic(name: str) -> None:
    """The RQ job: run periodic job `name`, then arm the next slot."""
    target, _ = PERIODIC[name]
    module, _, function = target.partition(":")
    with job_context():
        try:
            getattr(importlib.import_module(module), function)()
        finally:
            arm(runtime.current().queue(), every=intervals(runtime.settings()))

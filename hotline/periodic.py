"""Periodic jobs on RQ's own scheduler, with no extra process.

Each periodic job is scheduled for the next slot of its interval under a job id made from the
slot (`periodic_<name>_<epoch>`, unique), so arming it again, from any number of processes, is
harmless; after each run it arms the following slot. `hotline db upgrade` (the release step) and
`hotline run` arm them, so a Redis that lost its data is re-armed by the next release or start.
"""
from __future__ import annotations

import importlib
import logging
from datetime import datetime, timedelta, timezone

from rq import Queue
from rq.exceptions import DuplicateJobError

from hotline.worker import job_context

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


def next_slot(every: timedelta, now: datetime) -> datetime:
    seconds = int(every.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds + seconds, timezone.utc)


def arm(queue: Queue, now: datetime | None = None) -> list[str]:
    """Schedule every periodic job's next run (if not scheduled already); returns the job ids."""
    now = now or datetime.now(timezone.utc)
    ids = []
    for name, (_, every) in PERIODIC.items():
        at = next_slot(every, now)
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
            from hotline import services

            arm(services.current().queue())

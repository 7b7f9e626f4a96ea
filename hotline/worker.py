"""Running RQ jobs: the app context a job runs in, and the in-process worker of `hotline run`."""
from __future__ import annotations

import logging
import threading
from contextlib import AbstractContextManager
from functools import lru_cache

from flask import Flask, current_app, has_app_context
from rq import SimpleWorker
from rq.exceptions import StopRequested

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _worker_app() -> Flask:
    # A separate worker process (`rq worker`) builds its app from the environment once.
    from hotline.app import create_app

    return create_app()


def job_context() -> AbstractContextManager:
    """A fresh app context for one job (its own database session, closed at the end): of the
    current app in-process, else of the worker process's own app."""
    return (current_app if has_app_context() else _worker_app()).app_context()


def run_in_process(app: Flask, stop: threading.Event, poll_seconds: float = 1.0) -> None:
    """Work the queue and its scheduled jobs until `stop` is set. Must run in the main thread:
    RQ installs signal handlers and times jobs out with SIGALRM."""
    hotline = app.extensions["hotline"]
    worker = SimpleWorker([hotline.queue()], connection=hotline.redis)
    with app.app_context():
        try:
            while not stop.is_set():
                worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
                stop.wait(poll_seconds)
        except (KeyboardInterrupt, StopRequested):
            # RQ's SIGINT/SIGTERM handlers stay installed between bursts and raise this.
            stop.set()
    log.info("in-process worker stopped")


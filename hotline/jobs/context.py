"""The app an RQ job runs in: the one `hotline worker` built before taking jobs, the current one
in-process (`hotline run`, the tests), or one built from the environment by a plain `rq worker`."""
from __future__ import annotations

from contextlib import AbstractContextManager
from functools import lru_cache

from flask import Flask, current_app, has_app_context

from hotline.app import create_app

# The app `hotline worker` built before taking jobs (None in any other process): a cache, not state.
_served: Flask | None = None


def serve_app(app: Flask | None) -> None:
    """Make `app` the one jobs of this process run in (None: build one from the environment)."""
    global _served
    _served = app


@lru_cache(maxsize=1)
def _worker_app() -> Flask:
    # A plain `rq worker` builds its app from the environment, once per process (per work horse).
    return create_app()


def job_context() -> AbstractContextManager:
    """A fresh app context for one job (its own database session, closed at the end): of the
    current app in-process, else of the app `hotline worker` built, else of one built here."""
    if has_app_context():
        return current_app.app_context()
    return (_served or _worker_app()).app_context()



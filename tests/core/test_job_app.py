"""hotline.job_app: the app an RQ job runs in."""
from __future__ import annotations

from flask import current_app

from hotline import job_app as worker


def test_job_context_uses_the_app_the_worker_built(app):
    worker.serve_app(app)
    try:
        with worker.job_context():
            assert current_app._get_current_object() is app
    finally:
        worker.serve_app(None)


def test_job_context_prefers_the_current_app(app):
    worker.serve_app(object())  # never used while an app context is pushed
    try:
        with app.app_context(), worker.job_context():
            assert current_app._get_current_object() is app
    finally:
        worker.serve_app(None)

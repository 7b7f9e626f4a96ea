"""hotline.jobs.context: the app an RQ job runs in."""
from __future__ import annotations

from flask import current_app

from hotline.jobs import context


def test_job_context_uses_the_app_the_worker_built(app):
    context.serve_app(app)
    try:
        with context.job_context():
            assert current_app._get_current_object() is app
    finally:
        context.serve_app(None)


def test_job_context_prefers_the_current_app(app):
    context.serve_app(object())  # never used while an app context is pushed
    try:
        with app.app_context(), context.job_context():
            assert current_app._get_current_object() is app
    finally:
        context.serve_app(None)

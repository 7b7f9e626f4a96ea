"""`hotline worker`: jobs run in the app it built once, and it says what it serves."""
from __future__ import annotations

from flask import current_app

from hotline import worker


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


def test_the_banner_names_queue_redis_without_password_and_job_modules(app):
    lines = worker.describe(app, redis_url="redis://:s3cret@redis.internal:6380/2", name="w1")
    text = "\n".join(lines)
    assert "queue hotline" in text
    assert "redis://redis.internal:6380/2" in text and "s3cret" not in text
    for module in worker.JOB_MODULES:
        assert module in text
    assert "w1" in text


def test_every_job_module_imports():
    assert worker.preload() == list(worker.JOB_MODULES)

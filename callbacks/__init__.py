"""Callbacks: a caller who cannot wait is called back, in their language, by a consultant with the
right skills, within office hours, never forgotten and never twice.

Public surface: init_app(app); schedule.draft / confirm / cancel / reschedule / reassign /
wake_due; reconciliation.reconcile; booking.offer (the IVR's entry point to booking); rules().
"""
from __future__ import annotations

from flask import Flask

import routing
from callbacks import attempts, booking, caller_leg, consultant_leg, retention, views
from hotline import retention as hotline_retention
from ivr import way_out


def init_app(app: Flask) -> None:
    """Serve the webhooks, erase the numbers of old closed callbacks with the personal data
    (hotline.retention), and, when the [callbacks] configuration enables them, offer a callback
    as a way out of the queue."""
    settings = app.extensions["hotline"].catalogue.callbacks
    app.register_blueprint(views.blueprint)
    app.register_blueprint(booking.blueprint)
    routing.register_ringer(app, routing.CALLBACK, consultant_leg.ring_consultant)
    routing.register_leg_closer(app, attempts.RETURNED_DIRECTION, caller_leg.close_silent_leg)
    hotline_retention.register_purger(app, "callback_numbers", retention.forget_numbers)
    if settings.enabled:
        way_out.register(app, "callback", "queue_exit_callback", booking.offer)
    else:
        way_out.unregister(app, "callback")

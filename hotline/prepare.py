"""The app as the `hotline` commands use it: built, its database migrated, its reference data in."""
from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from hotline.app import create_app
from hotline.jobs.periodic import arm, intervals
from hotline.migrate import upgrade
from hotline.models import sync_reference


def prepared_app(overrides: Mapping[str, str] | None = None) -> Flask:
    """The app with its database migrated and the configured offices, languages, topics in it.
    `overrides`: environment-style settings that win over os.environ (see create_app)."""
    app = create_app(overrides)
    hotline = app.extensions["hotline"]
    upgrade(hotline.settings.database_url)
    with hotline.db.session() as session:
        sync_reference(session, hotline.catalogue)
    arm(hotline.queue(), every=intervals(hotline.settings))
    return app

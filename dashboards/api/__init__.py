"""The JSON API for staff tools, on flask-smorest: bearer tokens or the staff web's session,
consultants and their status, calls, records, the live queues, queue reports and callbacks.

Each request and answer is a marshmallow schema (params.py, schemas.py, callback_schemas.py),
which validates it and writes the OpenAPI 3 document at /api/openapi.json; /api/docs shows it.
Every error under /api/ is JSON: {"error": "...", "errors": {...which parameter...}}.
Who may do what: access.py. Personal data (caller numbers, notes, staff phones) is shown only to
supervisors and admins, and to the consultant who handled the call (a callback's number: to the
consultant it is assigned to). The queue endpoints hold none.
"""
from __future__ import annotations

from flask import Flask

# Each resource module adds its views to core.blueprint when imported.
from dashboards.api import callbacks, consultants, docs, queues, records  # noqa: F401
from dashboards.api.core import HotlineApi, blueprint, configure


def init_app(app: Flask) -> None:
    """Register the API, its OpenAPI document and reference, and its JSON errors on `app`."""
    configure(app)
    api = HotlineApi(app)
    api.register_blueprint(blueprint)
    # flask-smorest's own paging (page, page_size, an X-Pagination header) is not ours: limit/offset.
    api.spec.components.schemas.pop("PaginationMetadata", None)
    api.spec.components.headers.pop("PAGINATION", None)
    app.register_blueprint(docs.blueprint)

"""The browsable reference at /api/docs: flask-smorest's Swagger UI page, its scripts and styles
served from the installed swagger-ui-bundle package (no CDN: the page works offline)."""
from __future__ import annotations

from flask import Blueprint
from swagger_ui_bundle import swagger_ui_path

from dashboards.api.core import PREFIX

blueprint = Blueprint("api_docs_assets", __name__, static_folder=swagger_ui_path,
                      static_url_path=f"{PREFIX}/docs/static")

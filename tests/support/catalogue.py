"""The catalogue without an app: for tests of plain functions that read `runtime.catalogue()`
(hotline.runtime), which needs no database, Redis or app factory (the fast tier, `pytest -m fast`)."""
from __future__ import annotations

from types import SimpleNamespace

from flask import Flask

from hotline.catalogue import load_catalogue


def catalogue_app(config_path: str | None = None) -> Flask:
    """A bare Flask app whose only service (app.extensions["hotline"]) is the catalogue of the
    packaged defaults with the TOML file at `config_path` (if any) merged over them, as the app's
    HOTLINE_CONFIG would give. Within its app_context(), runtime.catalogue() is that catalogue;
    anything else of the runtime (database, Redis, settings) is missing and raises AttributeError.
    Raises CatalogueError (or OSError) as hotline.catalogue.load_catalogue does."""
    app = Flask("catalogue_only")
    app.extensions["hotline"] = SimpleNamespace(catalogue=load_catalogue(config_path))
    return app

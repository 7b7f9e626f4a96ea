"""WSGI entry point for gunicorn (Procfile `web`): the app is built here, not at import elsewhere."""
from hotline.app import create_app

app = create_app()

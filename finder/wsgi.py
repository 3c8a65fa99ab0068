"""WSGI entry point for gunicorn: builds the app and loads geodata before workers fork."""

from finder import create_app
from finder.web import build_lookup

app = create_app()
build_lookup(app)

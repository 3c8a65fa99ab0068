"""WSGI entry point for gunicorn: builds the app and loads geodata before workers fork (--preload)."""

import gc

from finder import create_app
from finder.web import build_lookup

app = create_app()
build_lookup(app)
# Everything loaded so far lives as long as the process: out of the collector's sight, a worker's
# collections neither walk it nor write to its pages, which would unshare them from the master's.
gc.freeze()

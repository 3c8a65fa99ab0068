"""WSGI entry point for gunicorn: builds the app and loads geodata before workers fork (--preload)."""

import gc

from finder import create_app
from finder.web import services

# The code just imported lives as long as the process (and leaves no garbage: tests/web/test_cold_start.py).
# Out of the collector's sight, the full collections that loading the app starts no longer walk it.
gc.freeze()
app = create_app()
service = services(app).lookup
# One ward's answer, as a request would ask (no view: nothing logged or counted), so what a first lookup
# builds (SQLAlchemy's compiled queries, the team cache, Python's specialised code) is built once here and
# shared by the workers instead of made in each: 7-8 MB less per worker.
service.resolve(ward=service.geo.wards.wards[0].code)
services(app).store.dispose()  # no pooled connection may cross the fork
# Everything loaded so far lives as long as the process: out of the collector's sight, a worker's
# collections neither walk it nor write to its pages, which would unshare them from the master's.
gc.freeze()

"""Where a postcode, an outward code, a point or a ward becomes an answer (`service.Lookup.resolve`), and the
two faces residents and embedders see it through: the resident pages (`pages.py`) and the JSON API (`api.py`)."""

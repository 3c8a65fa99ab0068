"""Printable posters: one ward's (`views.py`) and a borough's in one PDF for its admins (`admin.py`), drawn by
`service.py` (WeasyPrint, loaded only when a poster is asked for)."""

"""Team records (team, contact route, officer, meeting, priority): one schema each, in `schema.py`.

Everything else about a record's fields is derived from that schema: the police.uk sync's input
(the schema classes are the sync's input), the staff forms (`forms.py`), the checks
(`finder.teams.validation`), the editable fields and the history's labels
(`finder.staff.editing`), and the JSON API's shape (`api.py`, which also keeps
`finder/data/openapi.json` in step). The ORM models stay in `finder.store.models`.
"""

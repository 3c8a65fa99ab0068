"""The team records in the JSON API and its OpenAPI document, from the records' schema.

`values` gives a record's own fields as the API names them (the views add their links and provenance);
`document` brings `finder/data/openapi.json` into step with the schema: each record's component gets its
fields' JSON Schema and lists them as required (every field is always present, null when empty). The
document stays a file, served as it is and read by the API tests; `python -m finder.teams.api` rewrites it
after a schema change, and a test fails while it is out of step.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from finder.teams import schema

OPENAPI_FILE = Path(__file__).resolve().parent.parent / "data" / "openapi.json"
# Each record's object in the OpenAPI document.
COMPONENTS = {
    "team": "Team",
    "route": "TeamContactRoute",
    "officer": "TeamOfficer",
    "meeting": "TeamMeeting",
    "priority": "TeamPriority",
}
# The objects that say where they came from (`source`, `confirmed_at`, `verified_by_officer`), and what issue 24
# added beside those: when the source gave the value, and whether it may be out of date.
PROVENANCE_COMPONENTS = ("Team", "TeamContactRoute", "TeamOfficer", "TeamMeeting", "TeamPriority", "FrontCounter")
PROVENANCE_FIELDS: dict[str, dict[str, Any]] = {
    "as_of": {
        "type": "string",
        "format": "date",
        "description": (
            "When the source gave this value (a UK date). For `source: policeuk` (and `sample`), the day it was"
            " fetched from police.uk: what police.uk published that day (2023-03-06 for the dated March 2023"
            " snapshot a fresh install starts from). For `source: officer`, the day an officer last entered,"
            " changed or confirmed it. A police.uk value an officer has confirmed keeps police.uk's date here;"
            " `confirmed_at` has the officer's."
        ),
        "example": "2023-03-06",
    },
    "stale": {
        "type": "boolean",
        "description": (
            "True for a police.uk value that no officer has confirmed and that was fetched longer ago than the"
            " finder's threshold (FINDER_STALE_AFTER_MONTHS, default 12 months): it is still shown, labelled,"
            " but may have changed since. False otherwise."
        ),
    },
    "stale_note": {
        "type": ["string", "null"],
        "description": "When `stale`, the words residents read beside the value (English); null otherwise.",
        "example": "As published on police.uk in March 2023: it may have changed since",
    },
}


@cache
def api_fields(entity: str) -> tuple[tuple[str, str, schema.Spec], ...]:
    """(field, API name, Spec) for each field of the record the API carries."""
    return tuple(
        (name, s.api if s.api is not None else name, s) for name, s in schema.specs(entity).items() if s.api != ""
    )


def values(entity: str, record: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A record's own fields as the API gives them (dates as ISO text); `skip` leaves some to the caller.

    A field shown only when an editor marks it public (`public_when`) is the route the record shows for it
    (`record.shown(name)`), or None: a view holds such a field only when it is public."""
    out: dict[str, Any] = {}
    for name, api, s in api_fields(entity):
        if name in skip:
            continue
        if s.public_when is not None:
            route = record.shown(name)
            out[api] = route.to_api() if route is not None else None
            continue
        value = getattr(record, name)
        if isinstance(value, date):
            value = value.isoformat()
        out[api] = value
    return out


def document(doc: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with each record's fields as the schema describes them (in place)."""
    components = doc["components"]["schemas"]
    for entity, component in COMPONENTS.items():
        target = components[component]
        for _, api, s in api_fields(entity):
            target["properties"][api] = s.api_schema()
            if api not in target["required"]:
                target["required"].append(api)
    for component in PROVENANCE_COMPONENTS:
        target = components[component]
        target["properties"].update(PROVENANCE_FIELDS)
        target["required"] += [name for name in PROVENANCE_FIELDS if name not in target["required"]]
    return doc


def text(doc: dict[str, Any]) -> str:
    """The document as the file holds it."""
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    """Rewrite finder/data/openapi.json from the schema."""
    current = OPENAPI_FILE.read_text(encoding="utf-8")
    updated = text(document(json.loads(current)))
    if updated != current:
        OPENAPI_FILE.write_text(updated, encoding="utf-8")
        print(f"updated {OPENAPI_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

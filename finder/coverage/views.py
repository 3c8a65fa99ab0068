"""Coverage and reach: /coverage (map, roll-ups, table), /coverage.csv, /api/v1/coverage; and counting lookups.

The views are thin: finder/coverage/service.py scores the wards, finder/coverage/reach.py keeps
the counts. `counted(result, surface)` is the one call a lookup view makes to be counted.
"""

from __future__ import annotations

import csv
import io
import time
from functools import lru_cache
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from sqlalchemy.exc import SQLAlchemyError

from finder.coverage.reach import WINDOW_DAYS, lookups, shown
from finder.coverage.service import MAXIMUM, PARTS, CoverageReport, WardCoverage, ward_coverage, worst_first
from finder.errors import FinderError
from finder.geo.choropleth import COLOURS, choropleth_script
from finder.geo.wards import WardIndex
from finder.lookup.service import WardAnswer
from finder.staff.history import csv_cell
from finder.store.models import utcnow
from finder.store.reach import SURFACES
from finder.web import services

bp = Blueprint("coverage", __name__)
R = TypeVar("R")
EMPTY = {**dict.fromkeys(SURFACES, 0), "total": 0}


class CoverageUnavailable(FinderError):
    """The team store cannot be read just now (503)."""

    status = 503
    code = "store_unavailable"


# -- counting ---------------------------------------------------------------------------------------


def counted(result: R, surface: str) -> R:
    """Count a lookup that found a ward (not an outward code's list) on `surface`; return the result as given."""
    tally = services().reach
    if tally is not None and isinstance(result, WardAnswer):
        tally.count(result.ward.code, surface)
    return result


def init_app(app: Flask) -> None:
    """The coverage pages and downloads."""
    app.register_blueprint(bp)


# -- the report -------------------------------------------------------------------------------------


def coverage_report() -> tuple[CoverageReport, dict[str, dict[str, int]]]:
    """The scores and lookups, kept by this process for TEAM_CACHE_SECONDS like the teams themselves."""
    kept = services().coverage
    seconds = current_app.config["TEAM_CACHE_SECONDS"]
    if kept.last is not None and seconds > 0 and time.monotonic() - kept.last[0] < seconds:
        return kept.last[1]
    lookup = services().lookup
    store = lookup.teams.store if lookup.teams is not None else None
    try:
        report = ward_coverage(store, lookup.geo.wards, utcnow())
        counts = lookups(store) if store is not None else {}
    except SQLAlchemyError as exc:
        raise CoverageUnavailable(
            "The team details cannot be read right now, so coverage cannot be worked out. Try again in a minute."
        ) from exc
    totals = {code: c["total"] for code, c in counts.items()}
    ordered = CoverageReport(report.as_of, tuple(worst_first(report.wards, totals)), report.boroughs)
    kept.last = (time.monotonic(), (ordered, counts))
    return ordered, counts


def _ward_json(ward: WardCoverage, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "code": ward.code,
        "name": ward.name,
        "borough": {"code": ward.borough_code, "name": ward.borough_name},
        "score": ward.score,
        "parts": ward.has,
        "missing": ward.missing,
        "team_name": ward.team_name,
        "sample": ward.sample,
        "confirmed_at": ward.confirmed_at.isoformat().replace("+00:00", "Z") if ward.confirmed_at else None,
        "lookups": {k: shown(v) for k, v in counts.items()},
        "page": f"/wards/{ward.code}",
    }


def borough_lookups(report: CoverageReport, counts: dict[str, dict[str, int]]) -> dict[str, int]:
    """Borough code -> lookups in its wards."""
    totals: dict[str, int] = {}
    for ward in report.wards:
        totals[ward.borough_code] = totals.get(ward.borough_code, 0) + counts.get(ward.code, EMPTY)["total"]
    return totals


@bp.get("/api/v1/coverage")
def coverage_json():
    """Every ward's score and parts, worst first, with borough roll-ups and lookups over the last four weeks."""
    report, counts = coverage_report()
    by_borough = borough_lookups(report, counts)
    return jsonify(
        {
            "as_of": report.as_of.isoformat().replace("+00:00", "Z"),
            "maximum": MAXIMUM,
            "parts": [{"key": key, "label": label} for key, label in PARTS],
            "lookups_days": WINDOW_DAYS,
            "boroughs": [
                {
                    "code": b.code,
                    "name": b.name,
                    "wards": b.wards,
                    "mean_score": round(b.mean, 2),
                    "complete_wards": b.complete,
                    "wards_with": dict(zip([k for k, _ in PARTS], b.with_part, strict=True)),
                    "lookups": shown(by_borough.get(b.code, 0)),
                }
                for b in report.boroughs
            ],
            "wards": [_ward_json(w, counts.get(w.code, EMPTY)) for w in report.wards],
        }
    )


@bp.get("/coverage.csv")
def coverage_csv():
    """The ward table as CSV (worst first); text from the store is kept from running as a formula."""
    report, counts = coverage_report()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    lookup_columns = [f"lookups_{WINDOW_DAYS}_days_{k}" for k in (*SURFACES, "total")]
    writer.writerow(["ward_code", "ward_name", "borough_code", "borough_name", "score", *[k for k, _ in PARTS],
                     "team_name", "sample", "confirmed_at", *lookup_columns])  # fmt: skip
    for w in report.wards:
        c = counts.get(w.code, EMPTY)
        writer.writerow(
            [
                w.code,
                w.name,
                w.borough_code,
                w.borough_name,
                w.score,
                *("yes" if p else "no" for p in w.parts),
                csv_cell(w.team_name),
                "yes" if w.sample else "no",
                w.confirmed_at.isoformat() if w.confirmed_at else "",
                *(shown(c[k]) for k in (*SURFACES, "total")),
            ]
        )
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="coverage.csv"'
    return response


@bp.get("/coverage")
def coverage_page():
    """The coverage map, borough roll-ups and the table of every ward (the table is the page without JavaScript)."""
    report, counts = coverage_report()
    return render_template(
        "coverage.html",
        report=report,
        counts=counts,
        empty=EMPTY,
        parts=PARTS,
        maximum=MAXIMUM,
        colours=COLOURS,
        days=WINDOW_DAYS,
        shown=shown,
        borough_lookups=borough_lookups(report, counts),
    )


@bp.get("/coverage/map.js")
def coverage_map():
    """The choropleth's Leaflet script: ONS geometry, names and whole-number scores only."""
    report, _ = coverage_report()
    scores = tuple(sorted(report.scores.items()))
    response = Response(_map_script(services().lookup.geo.wards, scores), mimetype="text/javascript")
    response.cache_control.public = True
    response.cache_control.max_age = 300
    response.add_etag()
    return response.make_conditional(request)


@lru_cache(maxsize=4)  # keyed by the scores, never by a request; rebuilt (a quarter of a second) when they change
def _map_script(wards: WardIndex, scores: tuple[tuple[str, int], ...]) -> str:
    return choropleth_script(wards, dict(scores), MAXIMUM)

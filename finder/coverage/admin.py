"""/admin/coverage: the gaps in the user's own wards, as a to-do list linking to each ward's edit page."""

from __future__ import annotations

from typing import Any

from flask import render_template

from finder.coverage.nudges import month_reports
from finder.coverage.reach import shown
from finder.coverage.service import MAXIMUM
from finder.coverage.views import coverage_report
from finder.staff.views import bp, current_account, staff_required
from finder.staff.views.auth import _editable_wards


@bp.get("/coverage")
@staff_required
def coverage() -> Any:
    """Wards the user may edit that lack something a resident needs, worst first, grouped by borough."""
    mine = {code for wards in _editable_wards(current_account()).values() for code, _ in wards}
    ward_report, counts = coverage_report()
    gaps: dict[str, list[Any]] = {}
    for ward in ward_report.wards:  # already worst first, the most looked-up first among equals
        if ward.code in mine and ward.score < MAXIMUM:
            gaps.setdefault(ward.borough_name, []).append(ward)
    complete = sum(1 for w in ward_report.wards if w.code in mine and w.score == MAXIMUM)
    return render_template(
        "admin/coverage.html",
        gaps=gaps,
        complete=complete,
        mine=len(mine),
        maximum=MAXIMUM,
        counts=counts,
        no_team=month_reports(),
        shown=shown,
    )

"""/admin/boroughs/<code>/posters.pdf: every ward's poster in a borough as one PDF, for its admins to print."""

from __future__ import annotations

from typing import Any

from flask import abort

from finder.posters.views import pdf_response, ward_posters
from finder.staff.views import admin_required, borough_of, boroughs, bp, current_account
from finder.store.staff import Role
from finder.web import services


@bp.get("/boroughs/<code>/posters.pdf")
@admin_required
def borough_posters(code: str) -> Any:
    """One A4 page per ward of the borough, in name order; borough admins get their own borough only."""
    names = boroughs()
    if code not in names:
        abort(404, description=f"There is no London borough with the code {code}.")
    account = current_account()
    if account.role != Role.SITE_ADMIN and account.borough_code != code:
        abort(403, description="You can download the posters of your own borough only.")
    wards = sorted((w for w in services().lookup.geo.wards.wards if w.borough_code == code), key=lambda w: w.name)
    posters = ward_posters(w.code for w in wards)
    return pdf_response(posters, f"{code}-ward-posters.pdf", title=names[code])


@bp.app_template_global()
def poster_borough(ward_code: str) -> str | None:
    """The borough code of a ward, for the staff home page's link to its borough's posters."""
    return borough_of(ward_code)

"""The staff navigation's counts: what waits for this person, on every staff page they open.

Reviewers (borough and site admins) see how many changes wait for their review; everyone sees how many of
their wards show a detail nobody has confirmed (the staff home's list, which the count links to) and how many
score below the coverage threshold (DIGEST_THRESHOLD percent of the six parts), the same tests as the digest's.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from finder.coverage.service import MAXIMUM
from finder.coverage.views import CoverageUnavailable, coverage_report
from finder.staff.permissions import may_edit
from finder.staff.views import borough_of, bp, current_account
from finder.staff.views.wards import editing, reviewable


def staff_counts() -> dict[str, Any]:
    """reviews (admins only), unconfirmed and below (when coverage can be worked out), threshold."""
    account = current_account()
    counts: dict[str, Any] = {}
    if account.is_admin:
        counts["reviews"] = len(reviewable(account, editing().pending()))
    try:
        report, _ = coverage_report()
    except CoverageUnavailable:
        return counts
    threshold = current_app.config["DIGEST_THRESHOLD"]
    mine = [w for w in report.wards if may_edit(account, w.code, borough_of)]
    counts["unconfirmed"] = sum(1 for w in mine if w.unconfirmed_since is not None)  # as the home page lists them
    counts["below"] = sum(1 for w in mine if w.score * 100 < threshold * MAXIMUM)
    counts["threshold"] = f"{threshold:g}"
    return counts


@bp.context_processor
def _navigation() -> dict[str, Any]:
    return {"staff_counts": staff_counts}  # called by admin/base.html only when someone is signed in

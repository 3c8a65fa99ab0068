"""A what-if for scripts/bench_peer.py, never served to anyone: the finder with its postcode route answering
one fixed lookup's answer, made at start, through everything else a lookup goes through (the route, the rate
limit, the lookup count, the headers and the ETag of a 10 KB answer).

Its requests per second ÷ health is the most a JSON lookup could reach on that server if finding the
postcode, its ward and its team, and building the answer, cost nothing: the floor for issue 12's 85%.
With a team store, the answer is a live postcode's in the first ward with a team (10 KB, with the team and
its front counters); with an empty one, SW1A 2AA's (6 KB).
"""

from __future__ import annotations

import numpy as np
from flask import Response, jsonify

from finder.coverage.views import counted
from finder.geo.geodata import LIVE
from finder.lookup.service import WardAnswer
from finder.wsgi import app, service


def a_result() -> WardAnswer:
    """A live postcode's result in the first ward (in the geodata's order) whose team the store holds, if any."""
    rows = service.geo.postcodes.rows
    for ward in service.geo.wards.wards:
        if service.teams.lookup(ward.code).team is None:
            continue
        found = np.flatnonzero((rows["ward"] == ward.index) & (rows["status"] == LIVE))
        if len(found):
            return _postcode(rows["postcode"][found[0]].decode())
    return _postcode("SW1A 2AA")  # an empty store: no ward has a team


def _postcode(postcode: str) -> WardAnswer:
    answer = service.resolve(postcode=postcode)
    assert isinstance(answer, WardAnswer), postcode
    return answer


RESULT = a_result()
ANSWER = RESULT.to_api()


def fixed_answer(postcode: str) -> Response:
    """Count the lookup as the real view does; answer the fixed result."""
    counted(RESULT, "api")
    return jsonify(ANSWER)


app.view_functions["api.postcode"] = fixed_answer

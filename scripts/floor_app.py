"""A what-if for scripts/bench_peer.py, never served to anyone: the finder with its postcode route answering
one fixed lookup's answer, made at start, through everything else a lookup goes through (the route, the rate
limit, the lookup count, the headers and the ETag of a 10 KB answer).

Its requests per second ÷ health is the most a JSON lookup could reach on that server if finding the
postcode, its ward and its team, and building the answer, cost nothing: the floor for issue 12's 85%.
Run it with the 700-team store, so that the answer carries a team and its front counters.
"""

from __future__ import annotations

import numpy as np
from flask import Response, jsonify

from finder.geo.geodata import LIVE
from finder.services.lookup import Result
from finder.web.coverage import counted
from finder.wsgi import app, service


def a_result_with_a_team() -> Result:
    """A live postcode's result in the first ward (in the geodata's order) whose team the store holds."""
    rows = service.geo.postcodes.rows
    for ward in service.geo.wards.wards:
        found = np.flatnonzero((rows["ward"] == ward.index) & (rows["status"] == LIVE))
        if len(found) and service.teams.lookup(ward.code).team is not None:
            return service.resolve(postcode=rows["postcode"][found[0]].decode())
    raise SystemExit("floor_app: the store holds no team; run it with the 700-team store")


RESULT = a_result_with_a_team()
ANSWER = RESULT.to_api()


def fixed_answer(postcode: str) -> Response:
    """Count the lookup as the real view does; answer the fixed result."""
    counted(RESULT, "api")
    return jsonify(ANSWER)


app.view_functions["api.postcode"] = fixed_answer

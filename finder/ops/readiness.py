"""Whether an instance is fit for traffic: what /readyz answers a proxy's health check (HAProxy in deploy/).

Ready means the geodata is loaded, the team store answers within its timeout (FINDER_DB_TIMEOUT), and its
schema is the code's (Alembic's head). The store is asked afresh each time, so a store restored from an older
backup, or stepped back, takes the instance out of the proxy's rotation until `finder init-db` has run.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from finder.ops.metrics import STORE_ERRORS
from finder.store import Store
from finder.store.migrate import head, revision_of

log = logging.getLogger(__name__)


def store_not_ready(store: Store) -> str | None:
    """Why the store cannot serve this code (a short reason for a machine), or None when it can."""
    try:
        with store.reader() as session:  # every wait bounded by the store's timeout
            revision = revision_of(session.connection())
    except SQLAlchemyError as exc:
        STORE_ERRORS.labels("readiness").inc()
        # The reason a proxy sees names no host or credential; the log says what went wrong.
        log.warning("readiness: the team store could not be read (%s)", getattr(exc, "orig", None) or exc)
        within = f" within {store.timeout:g} s" if store.timeout is not None else ""
        return f"the team store could not be read{within}"
    if revision != head():
        return f"the team store is at schema {revision or 'none'}, not {head()}: run `finder init-db`"
    return None

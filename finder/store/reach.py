"""Lookups counted per ward, per day and per surface (pages, API, embed): the only record of reach.

A row holds a day, a ward code, a surface and a count, and nothing else: no postcode, place,
address, client address or cookie. Each worker adds what it counted in one statement, an upsert
that increments, so workers and instances sharing a database add up rather than overwrite.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import cast

from sqlalchemy import Date, Integer, String, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from finder.store.models import Base, choice

SURFACES = ("page", "api", "embed")
Key = tuple[date, str, str]  # (day, ward code, surface)


class LookupCount(Base):
    """How many lookups answered with a ward on one day, from one surface."""

    __tablename__ = "lookup_count"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    ward_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    surface: Mapped[str] = mapped_column(choice("surface", SURFACES, 8), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


def add_counts(session: Session, counts: Mapping[Key, int]) -> None:
    """Add `counts` to the stored ones in one INSERT … ON CONFLICT DO UPDATE SET count = count + new."""
    if not counts:
        return
    table = cast(Table, LookupCount.__table__)  # a mapped class's table, typed as any FROM clause
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(
        [{"day": day, "ward_code": ward, "surface": surface, "count": n} for (day, ward, surface), n in counts.items()]
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.day, table.c.ward_code, table.c.surface],
        set_={"count": table.c.count + statement.excluded.count},
    )
    session.execute(statement)


def counts_since(session: Session, since: date) -> dict[str, dict[str, int]]:
    """Ward code -> surface -> lookups from `since` on (one grouped query)."""
    table = LookupCount.__table__
    found: dict[str, dict[str, int]] = {}
    query = (
        select(table.c.ward_code, table.c.surface, func.sum(table.c.count))
        .where(table.c.day >= since)
        .group_by(table.c.ward_code, table.c.surface)
    )
    for ward, surface, total in session.execute(query):
        found.setdefault(ward, {})[surface] = int(total)
    return found

"""Who may do what: the one place the roles' rules live (the roles are `Role`, the store's enum).

- Editing a ward's team: site admins any London ward, borough admins their borough's, ward editors their own.
- Reviewing (approving, rejecting, restoring, a borough's review setting): site admins anywhere, borough
  admins in their borough; never ward editors.
- Managing an account (sending its links, assigning its wards): site admins anyone; borough admins an
  editor whose every ward is in their borough.
An account that is not active may do none of these.
"""

from __future__ import annotations

from collections.abc import Callable

from finder.staff.account import Account
from finder.store.staff import Role

BoroughOf = Callable[[str], "str | None"]  # a ward's borough code, None for no such ward


def may_edit(user: Account, ward_code: str, borough_of: BoroughOf) -> bool:
    """Whether `user` may change `ward_code`'s team."""
    if not user.active:
        return False
    if user.role == Role.SITE_ADMIN:
        return borough_of(ward_code) is not None
    if user.role == Role.BOROUGH_ADMIN:
        ward_borough = borough_of(ward_code)
        return ward_borough is not None and ward_borough == user.borough_code
    return user.role == Role.WARD_EDITOR and ward_code in user.wards


def may_review(user: Account, borough_code: str | None) -> bool:
    """Whether `user` may review changes to the wards of `borough_code` (None: a ward in no borough)."""
    if not user.active:
        return False
    if user.role == Role.SITE_ADMIN:
        return True
    return user.role == Role.BOROUGH_ADMIN and borough_code is not None and borough_code == user.borough_code


def may_manage(actor: Account, target: Account, borough_of: BoroughOf) -> bool:
    """Whether `actor` may send `target` links and assign their wards: a site admin, or a borough admin
    whose borough holds every one of the editor's wards (an editor with wards in two boroughs could
    otherwise be taken over by either borough's admin, and their other borough's wards with them)."""
    if not actor.active:
        return False
    if actor.role == Role.SITE_ADMIN:
        return True
    if actor.role == Role.BOROUGH_ADMIN and target.role == Role.WARD_EDITOR and target.wards:
        return all(borough_of(code) == actor.borough_code for code in target.wards)
    return False


__all__ = ["BoroughOf", "Role", "may_edit", "may_manage", "may_review"]

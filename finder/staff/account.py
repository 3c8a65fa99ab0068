"""The one class for a staff member outside the store: services, editing and Flask-Login all use `Account`.

The store's row is `finder.store.staff.StaffUser`; an `Account` is a copy of what the rest of the finder
needs of it, plain data, safe to keep after the store's session ends.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from finder.store.staff import Role, StaffUser

ROLE_NAMES = {Role.SITE_ADMIN: "Site admin", Role.BOROUGH_ADMIN: "Borough admin", Role.WARD_EDITOR: "Ward editor"}


@dataclass(frozen=True)
class Account:
    """A staff member; with a `session_key`, the one Flask-Login has signed in (its user class's four
    members, which Flask-Login documents, are below: the cookie names a session in the store, not a person)."""

    id: int
    email: str
    name: str
    role: str
    borough_code: str | None
    wards: frozenset[str]
    session_generation: int
    totp_enrolled: bool
    has_password: bool
    active: bool
    recovery_codes_left: int
    session_key: str | None = None  # the id of the signed-in session's row (finder/staff/sessions.py)

    @classmethod
    def of(cls, user: StaffUser) -> Account:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            borough_code=user.borough_code,
            wards=user.ward_codes,
            session_generation=user.session_generation,
            totp_enrolled=user.totp_secret is not None,
            has_password=user.password_hash is not None,
            active=user.active,
            recovery_codes_left=len(json.loads(user.recovery_codes or "[]")),
        )

    def signed_in(self, session_key: str) -> Account:
        """This account as signed in through the session `session_key`."""
        return dataclasses.replace(self, session_key=session_key)

    @property
    def ward_codes(self) -> frozenset[str]:
        """The wards a ward editor is assigned."""
        return self.wards

    @property
    def is_admin(self) -> bool:
        """Borough and site admins: they must use a second step to sign in."""
        return self.role in (Role.SITE_ADMIN, Role.BOROUGH_ADMIN)

    @property
    def role_name(self) -> str:
        return ROLE_NAMES[Role(self.role)]

    # -- what Flask-Login reads of its user ---------------------------------------------------------

    @property
    def is_authenticated(self) -> bool:
        return self.session_key is not None

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The signed-in session's id, which the cookie keeps (never the account's own id)."""
        if self.session_key is None:
            raise ValueError("this account is not signed in through a session")
        return self.session_key

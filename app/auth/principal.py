"""Who is calling: a staff user or a district system's integration key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import col

from app.core.db import table_of
from app.integration_keys.models import IntegrationKey
from app.users.models import Role, SchoolMembership, User


class Scope(StrEnum):
    read = "read"
    roster_write = "roster:write"


@dataclass(frozen=True, slots=True)
class Staff:
    """The signed-in staff member, as the token check read them: plain values, not a session
    object (the few routes that change their own account load it in their session)."""

    id: uuid.UUID
    email: str
    given_name: str
    family_name: str
    role: Role
    sourced_id: str | None
    is_active: bool
    token_version: int
    invited_at: datetime | None
    activated_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def member_ref(self) -> dict[str, Any]:
        """This person as a `MemberRef` shows them (what they write is answered with it)."""
        return {"id": self.id, "given_name": self.given_name, "family_name": self.family_name}

    @classmethod
    def of(cls, user: User) -> Staff:
        values: dict[str, Any] = {name: getattr(user, name) for name in STAFF_FIELDS}
        return cls(**values)


STAFF_FIELDS = tuple(f.name for f in fields(Staff))


@dataclass(frozen=True)
class Principal:
    user: Staff | None = None
    key: IntegrationKey | None = None
    school_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    # The operator at the command line (create-user, imports): acts with district rights.
    system: bool = False

    @property
    def staff(self) -> Staff:
        """The staff member calling (routes behind StaffCaller have one)."""
        if self.user is None:
            raise TypeError("an integration key, not a staff member")
        return self.user

    @property
    def role(self) -> Role | None:
        return self.user.role if self.user else None

    @property
    def is_district_admin(self) -> bool:
        return self.system or self.role == Role.district_admin

    @property
    def is_school_admin(self) -> bool:
        return self.role == Role.school_admin

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.school_admin, Role.district_admin)

    @property
    def manages_district_staff(self) -> bool:
        """Creates and changes any staff record: district administrators, the operator at the
        command line, and `roster:write` keys (district systems importing the roster)."""
        return self.is_district_admin or (
            self.key is not None and Scope.roster_write in self.scopes
        )

    @property
    def reads_district(self) -> bool:
        """Sees every school's staff records: district administrators and `read` keys."""
        return self.is_district_admin or (self.key is not None and Scope.read in self.scopes)

    def has_scope(self, scope: Scope) -> bool:
        if self.key is not None:
            return scope in self.scopes
        # Users act through their role, which the route's own dependency checks.
        return True

    @property
    def actor_id(self) -> str:
        if self.user is not None:
            return str(self.user.id)
        if self.key is None:
            return "system"
        return f"key:{self.key.id}"


# Filters that depend on who calls (the users and teams visibility rules) are built once per
# kind of caller, as parts of statements built once; they name the caller by these bind
# parameters, whose values `caller_values` gives per request.
CALLER_ID = "caller_id"
CALLER_SCHOOLS = "caller_schools"


class SchoolReach(StrEnum):
    """How far a caller's view of school business goes (staff records, coverage and support
    requests): the district's, their schools', or their own."""

    district = "district"
    schools = "schools"
    own = "own"


def school_reach(principal: Principal) -> SchoolReach:
    """District administrators see everything, school administrators their schools', everyone
    else their own (coverage and support requests)."""
    if principal.is_district_admin:
        return SchoolReach.district
    if principal.is_school_admin:
        return SchoolReach.schools
    return SchoolReach.own


def caller_values(principal: Principal) -> dict[str, Any]:
    """The values of CALLER_ID and CALLER_SCHOOLS for this caller."""
    return {
        CALLER_ID: principal.user.id if principal.user else None,
        CALLER_SCHOOLS: sorted(principal.school_ids),
    }


# What a principal is read from: the account's own columns and its schools. The signed-in
# account cache (principal_cache.py) must hear of every change to the tables this reads.
STAFF_WITH_SCHOOLS = (
    select(
        *(table_of(User).c[name] for name in STAFF_FIELDS),
        col(SchoolMembership.school_id).label("member_of"),
    )
    .outerjoin(SchoolMembership, col(SchoolMembership.user_id) == User.id)
    .where(col(User.id) == bindparam("user_id"))
)

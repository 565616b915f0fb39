"""Who sends whom a link to set their password (an invitation, a reset): a staff administrator
who manages the person (district administrators: anyone; school administrators: non-district
staff of their schools), never an integration key; no administrator ever sees or sets the
password. Using a link needs no account: the emailed token is the proof; asking for a reset
needs none either (the answer is the same whoever asks)."""

import uuid

from sqlalchemy import ColumnElement, and_
from sqlmodel import col

from app.auth.principal import Principal
from app.users import policies as user_policies
from app.users.models import Role, User


def can_invite_imported(p: Principal) -> bool:
    """Whoever imports a roster invites the people it creates (`invite_new`): they are all
    within the importer's reach by the import's own rule; `roster:write` keys included, as a
    nightly district sync runs with one."""
    return p.manages_district_staff or p.is_school_admin


def can_invite_many(p: Principal) -> bool:
    """A staff administrator; each person it reaches is one they manage (the service's filter
    is `can_send_password_link` in SQL: their record reach, no district administrator for a
    school administrator)."""
    return p.user is not None and (p.is_district_admin or p.is_school_admin)


def password_link_reach(p: Principal) -> ColumnElement[bool]:
    """`can_send_password_link` as a filter of staff records, for many at once (run with
    `caller_values(p)`): the caller's record reach, without district administrators for a
    school administrator."""
    scope = user_policies.within(user_policies.record_reach(p))
    if p.is_district_admin:
        return scope
    return and_(scope, col(User.role) != Role.district_admin)


def can_send_password_link(p: Principal, role: Role, school_ids: set[uuid.UUID]) -> bool:
    return p.user is not None and user_policies.can_manage_user(p, role, school_ids)

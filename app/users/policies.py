"""Who may see or change which staff records. Plain functions; the service and deps use them."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, select, true

from app.auth.principal import Principal
from app.users.models import Role, SchoolMembership, User


def readable_users(principal: Principal) -> ColumnElement[bool]:
    """Filter for users whose full record the caller may read (admins and `read` keys)."""
    if principal.reads_district:
        return true()
    if principal.is_school_admin:
        in_my_schools = select(SchoolMembership.user_id).where(
            SchoolMembership.school_id.in_(principal.school_ids)  # type: ignore[attr-defined]
        )
        return User.id.in_(in_my_schools)  # type: ignore[attr-defined,no-any-return]
    assert principal.user is not None
    return User.id == principal.user.id  # type: ignore[return-value]


def colleagues_of(principal: Principal) -> ColumnElement[bool]:
    """Filter for staff a user may find by name: people sharing one of their schools."""
    if principal.reads_district:
        return true()
    shared = select(SchoolMembership.user_id).where(
        SchoolMembership.school_id.in_(principal.school_ids)  # type: ignore[attr-defined]
    )
    return User.id.in_(shared)  # type: ignore[attr-defined,no-any-return]


def can_read_user(principal: Principal, user_school_ids: set[uuid.UUID], user_id: Any) -> bool:
    if principal.reads_district:
        return True
    if principal.is_school_admin:
        return bool(user_school_ids & principal.school_ids)
    return principal.user is not None and principal.user.id == user_id


def can_manage_user(principal: Principal, role: Role, user_school_ids: set[uuid.UUID]) -> bool:
    if principal.is_district_admin:
        return True
    if principal.is_school_admin:
        return role != Role.district_admin and bool(user_school_ids & principal.school_ids)
    return False


def assignment_problem(
    principal: Principal,
    role: Role,
    old_school_ids: set[uuid.UUID],
    new_school_ids: set[uuid.UUID],
) -> str | None:
    """Why the caller may not give a user this role and these schools, or None if they may."""
    if principal.is_district_admin:
        return None
    if role == Role.district_admin:
        return "Only district administrators can grant the district_admin role"
    if not new_school_ids:
        return "School administrators must place staff in at least one of their schools"
    if (old_school_ids ^ new_school_ids) - principal.school_ids:
        return "You can only add or remove memberships of schools you administer"
    return None

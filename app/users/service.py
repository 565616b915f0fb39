"""Rules for staff accounts. Functions flush; the request's session commits."""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    insert,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from app.audit import service as audit
from app.audit.models import AuditAction
from app.auth.principal import Principal, SchoolReach, Staff, caller_values
from app.auth.throttle import STAFF_LOOKUPS, staff_lookup_key, staff_lookups
from app.core import rows
from app.core.config import Settings
from app.core.db import table_of, utcnow
from app.core.errors import Conflict, FieldError, Forbidden, Unprocessable
from app.core.pagination import PageQuery, contains_param, search_text
from app.core.reads import Bound
from app.core.security import hash_password_async
from app.core.sql import AnySelect, collected
from app.schools.models import School
from app.users import policies
from app.users.models import Role, SchoolMembership, StaffDirectoryEntry, User
from app.users.schemas import UserCreate, UserPublic, UserUpdate


async def school_ids_of(
    session: AsyncSession, user_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Memberships of many users in one query."""
    ids = list(user_ids)
    out: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if not ids:
        return out
    rows = await session.execute(
        select(col(SchoolMembership.user_id), col(SchoolMembership.school_id))
        .where(col(SchoolMembership.user_id).in_(ids))
        .order_by(col(SchoolMembership.user_id), col(SchoolMembership.school_id))
    )
    for user_id, school_id in rows:
        out[user_id].append(school_id)
    return out


# What UserPublic shows of the table (school_ids come from `memberships`); not the password hash.
PUBLIC_COLUMNS = [c for c in table_of(User).columns if c.key in UserPublic.model_fields]


def memberships(row: Any) -> list[Any]:
    """A listed user's school ids, looked up per row of a page (`PageQuery.per_row`)."""
    schools = select(col(SchoolMembership.school_id)).where(SchoolMembership.user_id == row.id)
    return [collected(schools.order_by(col(SchoolMembership.school_id))).label("school_ids")]


def to_public(user: User | Staff, school_ids: list[uuid.UUID]) -> UserPublic:
    return UserPublic(
        id=user.id,
        email=user.email,
        given_name=user.given_name,
        family_name=user.family_name,
        role=user.role,
        school_ids=sorted(school_ids, key=str),
        sourced_id=user.sourced_id,
        is_active=user.is_active,
        invited_at=user.invited_at,
        activated_at=user.activated_at,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


@functools.cache
def _list_query(
    reach: SchoolReach,
    colleagues_only: bool,
    by_school: bool,
    by_role: bool,
    by_active: bool,
    by_text: bool,
    several_schools: bool = True,
    activated: bool | None = None,
) -> PageQuery:
    """The list statement for one combination of reach and filters (built once each);
    `several_schools`: whether the caller belongs to more than one school (colleagues)."""
    if colleagues_only and reach is SchoolReach.schools and not by_role and activated is None:
        return _directory_query(by_school, by_active, by_text, several_schools)
    if colleagues_only:
        stmt = select(col(User.id), col(User.given_name), col(User.family_name))
    else:
        stmt = select(*PUBLIC_COLUMNS)
    stmt = stmt.where(policies.within(reach))
    if by_school:
        members = select(col(SchoolMembership.user_id)).where(
            col(SchoolMembership.school_id) == bindparam("school_id")
        )
        stmt = stmt.where(col(User.id).in_(members))
    if by_role:
        stmt = stmt.where(col(User.role) == bindparam("role"))
    if by_active:
        stmt = stmt.where(col(User.is_active) == bindparam("is_active"))
    if activated is not None:
        done = col(User.activated_at)
        stmt = stmt.where(done.is_not(None) if activated else done.is_(None))
    if by_text:
        stmt = stmt.where(
            or_(
                contains_param(User.given_name, "q"),
                contains_param(User.family_name, "q"),
                contains_param(User.email, "q"),
            )
        )
    order = (User.family_name, User.given_name, User.id)
    return PageQuery(stmt, order, per_row=None if colleagues_only else memberships)


@functools.cache
def _directory_query(
    by_school: bool, by_active: bool, by_text: bool, several_schools: bool
) -> PageQuery:
    """Colleagues of the caller's schools from the staff directory (`StaffDirectoryEntry`): with
    one of the caller's schools, a page is 50 entries of one index in name order."""
    entry = StaffDirectoryEntry
    stmt: AnySelect = select(
        col(entry.user_id).label("id"), col(entry.given_name), col(entry.family_name)
    ).where(policies.directory_within(by_school, several_schools))
    if by_active:
        stmt = stmt.where(entry.is_active == bindparam("is_active"))  # type: ignore[arg-type]
    if by_text:
        found = select(col(User.id)).where(
            or_(
                contains_param(User.given_name, "q"),
                contains_param(User.family_name, "q"),
                contains_param(User.email, "q"),
            )
        )
        stmt = stmt.where(col(entry.user_id).in_(found))
    return PageQuery(stmt, (entry.family_name, entry.given_name, entry.user_id))


def one_statement(principal: Principal, user_id: uuid.UUID) -> Bound:
    """One staff record as UserPublic, if the caller may know the person (the list's filter
    plus the id)."""
    values = {**caller_values(principal), "user_id": user_id}
    return Bound(_one(policies.record_reach(principal)), values)


@functools.cache
def _one(reach: SchoolReach) -> AnySelect:
    return select(*PUBLIC_COLUMNS, *memberships(User)).where(
        col(User.id) == bindparam("user_id"),
        policies.within(reach, one=True),
    )


def managed_statement(principal: Principal, user_id: uuid.UUID) -> Bound:
    """The person's id if the caller may know them and manages them (`policies.managed`):
    the check a list of what belongs to the account goes with."""
    values = {**caller_values(principal), "user_id": user_id}
    reach = policies.record_reach(principal)
    return Bound(_managed(reach, policies.management(principal)), values)


@functools.cache
def _managed(reach: SchoolReach, kind: policies.Management) -> AnySelect:
    return select(col(User.id)).where(
        col(User.id) == bindparam("user_id"),
        policies.within(reach, one=True),
        policies.managed(kind),
    )


def list_query(
    principal: Principal,
    *,
    school_id: uuid.UUID | None,
    role: Role | None,
    is_active: bool | None,
    q: str | None,
    colleagues_only: bool = False,
    activated: bool | None = None,
) -> tuple[PageQuery, dict[str, Any]]:
    """Staff the caller may list (colleagues: names only), with the values of its parameters.

    Ordered by family name, given name, id."""
    if colleagues_only:
        reach = policies.colleague_reach(principal)
    else:
        reach = policies.record_reach(principal)
    filters = (school_id is not None, role is not None, is_active is not None, bool(q))
    # A caller of one school needs no de-duplication of people at several of theirs.
    several = not colleagues_only or len(principal.school_ids) > 1
    query = _list_query(
        reach, colleagues_only, *filters, several_schools=several, activated=activated
    )
    values = {
        **caller_values(principal),
        "school_id": school_id,
        "role": role,
        "is_active": is_active,
        "q": search_text(q) if q else None,
    }
    return query, values


class InUse(Conflict):
    persist = True  # a lookup spent of the caller's daily budget is kept (users.service)


async def _check_unique(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    email: str | None,
    sourced_id: str | None,
    exclude: uuid.UUID | None,
) -> None:
    """409 if the email or roster id is taken. Saying so tells the caller that person exists:
    a caller who manages some schools only may be told that of staff outside them
    STAFF_LOOKUP_BUDGET times a day (429 after), so nobody lists the district's staff by
    trying addresses."""
    conds: list[ColumnElement[bool]] = []
    if email is not None:
        conds.append(col(User.email) == email)
    if sourced_id is not None:
        conds.append(col(User.sourced_id) == sourced_id)
    if not conds:
        return
    budget = staff_lookups(settings.staff_lookup_budget)
    limited = principal.user is not None and not principal.manages_district_staff
    if limited:
        assert principal.user is not None
        await budget.check(session, staff_lookup_key(principal.user.id), STAFF_LOOKUPS)
    stmt = select(col(User.id), col(User.role), col(User.email)).where(or_(*conds))
    if exclude is not None:
        stmt = stmt.where(col(User.id) != exclude)
    clash = (await session.execute(stmt)).first()
    if clash is None:
        return
    field = "email" if email is not None and clash.email == email else "sourced_id"
    schools = (await school_ids_of(session, [clash.id]))[clash.id]
    if limited and not policies.can_manage_user(principal, Role(clash.role), set(schools)):
        assert principal.user is not None
        await budget.spend(session, staff_lookup_key(principal.user.id), 1, STAFF_LOOKUPS)
    raise InUse(f"This {field} is already in use")


async def _check_schools_exist(session: AsyncSession, school_ids: set[uuid.UUID]) -> None:
    if not school_ids:
        return
    known = select(col(School.id)).where(col(School.id).in_(school_ids))
    found = set((await session.execute(known)).scalars())
    missing = school_ids - found
    if missing:
        raise Unprocessable(
            "Unknown school id",
            errors=[
                FieldError(
                    field="body.school_ids", message=f"unknown school {m}", type="unknown_school"
                )
                for m in sorted(missing, key=str)
            ],
        )


async def _set_memberships(
    session: AsyncSession, user_id: uuid.UUID, old: set[uuid.UUID], new: set[uuid.UUID]
) -> None:
    removed, added = old - new, new - old
    if removed:
        await session.execute(
            delete(SchoolMembership).where(
                and_(
                    col(SchoolMembership.user_id) == user_id,
                    col(SchoolMembership.school_id).in_(removed),
                )
            )
        )
    if added:
        await session.execute(
            insert(SchoolMembership), [{"user_id": user_id, "school_id": s} for s in added]
        )


def _refuse(problem: tuple[policies.ChangeProblem, str] | None) -> None:
    if problem is None:
        return
    kind, message = problem
    if kind is policies.ChangeProblem.self_change:
        raise Conflict(message)
    raise Forbidden(message)


async def create(
    session: AsyncSession, settings: Settings, principal: Principal, data: UserCreate
) -> UserPublic:
    new_schools = set(data.school_ids)
    new = policies.StaffState(data.role, frozenset(new_schools), True)
    _refuse(policies.change_problem(principal, None, None, new))
    # Hashed before the first statement, so no connection or lock is held while argon2 runs.
    password_hash = await hash_password_async(data.password) if data.password else None
    await _check_schools_exist(session, new_schools)
    await _check_unique(session, settings, principal, data.email, data.sourced_id, None)
    user = User(
        email=data.email,
        given_name=data.given_name,
        family_name=data.family_name,
        role=data.role,
        sourced_id=data.sourced_id,
        password_hash=password_hash,
        # An account created with a password needs no invitation.
        activated_at=utcnow() if password_hash else None,
    )
    session.add(user)
    await session.flush()
    await _set_memberships(session, user.id, set(), new_schools)
    await audit.record(
        session,
        AuditAction.user_created,
        principal,
        subject_user_id=user.id,
        role=user.role,
        school_ids=sorted(str(s) for s in new_schools),
    )
    return to_public(user, list(new_schools))


async def _audit_changes(
    session: AsyncSession,
    principal: Principal,
    user: User,
    old_schools: set[uuid.UUID],
    new_schools: set[uuid.UUID],
    changes: dict[str, Any],
) -> None:
    """The audit trail's events for a change of role, schools, email or standing."""
    events: list[tuple[AuditAction, dict[str, Any]]] = []
    if changes.get("role", user.role) != user.role:
        events.append((AuditAction.role_changed, {"from": user.role, "to": changes["role"]}))
    if new_schools != old_schools:
        added = sorted(str(s) for s in new_schools - old_schools)
        removed = sorted(str(s) for s in old_schools - new_schools)
        events.append((AuditAction.schools_changed, {"added": added, "removed": removed}))
    if changes.get("email", user.email) != user.email:
        events.append((AuditAction.email_changed, {"from": user.email, "to": changes["email"]}))
    if changes.get("is_active", user.is_active) != user.is_active:
        action = AuditAction.reactivated if changes["is_active"] else AuditAction.deactivated
        events.append((action, {}))
    for action, facts in events:
        await audit.record(session, action, principal, subject_user_id=user.id, **facts)


async def update(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    user: User,
    old_schools: list[uuid.UUID],
    data: UserUpdate,
) -> UserPublic:
    changes = rows.patch(user, data)
    new_schools = set(changes.get("school_ids", old_schools))
    current = policies.StaffState(Role(user.role), frozenset(old_schools), user.is_active)
    new = policies.StaffState(
        changes.get("role", Role(user.role)),
        frozenset(new_schools),
        changes.get("is_active", user.is_active),
    )
    _refuse(policies.change_problem(principal, user.id, current, new))
    await _check_schools_exist(session, new_schools - set(old_schools))
    await _check_unique(
        session, settings, principal, changes.get("email"), changes.get("sourced_id"), user.id
    )

    await _audit_changes(session, principal, user, set(old_schools), new_schools, changes)
    if changes.get("is_active") is False and user.is_active:
        user.token_version += 1  # existing tokens stop working at once
    if changes.get("email", user.email) != user.email:
        user.email_confirmed = False  # no password link to an address the person did not give
    if changes.get("sourced_id", user.sourced_id) != user.sourced_id:
        user.roster_id_confirmed = False  # no single sign-on by a roster id someone else set
    for key in ("email", "given_name", "family_name", "role", "sourced_id", "is_active"):
        if key in changes:
            setattr(user, key, changes[key])
    rows.changed(user)
    session.add(user)
    await session.flush()
    await _set_memberships(session, user.id, set(old_schools), new_schools)
    return to_public(user, list(new_schools))

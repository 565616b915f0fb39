"""Planning a roster import, whatever the format: match schools and people to what is stored,
check the caller may make each change (the rule of PATCH /users: users/policies.change_problem),
and work out a sync's deactivations. Nothing is written here; rows are checked in a worker
thread, lookups run in the import's transaction."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import anyio.to_thread
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.core.db import new_id, table_of
from app.core.errors import FieldError
from app.rosters.options import ImportOptions
from app.rosters.records import PersonRecord, Roster
from app.rosters.schemas import ImportMode
from app.schools.models import School
from app.users.models import Role, SchoolMembership, User
from app.users.policies import ChangeProblem, StaffState, change_problem

LIMITS = {"email": 320, "given_name": 100, "family_name": 100, "sourced_id": 255}
SCHOOL_NAME_LIMIT = 200
CHUNK = 500  # rows per statement, in lookups and writes
FULL_SCAN = 4000  # names looked up above which one pass over the table is cheaper


@dataclass
class PlannedSchool:
    ref: str
    sourced_id: str
    name: str
    id: uuid.UUID
    existing: dict[str, Any] | None
    changed: list[str] = field(default_factory=list)


@dataclass
class Planned:
    ref: str
    email: str
    given_name: str
    family_name: str
    role: Role | None
    sourced_id: str | None
    school_ids: set[uuid.UUID] | None
    is_active: bool | None
    existing: dict[str, Any] | None = None
    changed: list[str] = field(default_factory=list)
    action: str = ""
    columns: dict[str, str] = field(default_factory=dict)


@dataclass
class Plan:
    schools: list[PlannedSchool] = field(default_factory=list)
    people: list[Planned] = field(default_factory=list)
    deactivate: list[dict[str, Any]] = field(default_factory=list)  # existing users
    skipped: int = 0
    active_covered: int = 0  # active staff of the schools a sync covers (the guard's measure)
    outside: int = 0  # rows naming staff the caller does not manage (each tells they exist)


# Reports a row error: (ref, column, message, kind). Planning adds to the file's own errors.
ErrorSink = Callable[..., None]


# -- schools ---------------------------------------------------------------------------------


async def _stored_schools(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(select(col(School.id), col(School.name), col(School.sourced_id)))
    return [dict(r) for r in rows.mappings()]


def _plan_schools(
    roster: Roster, stored: list[dict[str, Any]], principal: Principal, err: ErrorSink
) -> list[PlannedSchool]:
    by_sourced = {s["sourced_id"]: s for s in stored if s["sourced_id"]}
    by_name = {s["name"].lower(): s for s in stored}
    planned: list[PlannedSchool] = []
    seen_ids: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    for record in roster.schools:
        cols = record.columns
        if record.sourced_id in seen_ids:
            err(
                record.ref,
                cols["sourced_id"],
                f"duplicate of {seen_ids[record.sourced_id]}",
                "duplicate",
            )
            continue
        seen_ids[record.sourced_id] = record.ref
        if len(record.name) > SCHOOL_NAME_LIMIT or len(record.sourced_id) > 255:
            column = "name" if len(record.name) > SCHOOL_NAME_LIMIT else "sourced_id"
            err(record.ref, cols[column], "too long", "too_long")
            continue
        lowered = record.name.lower()
        if lowered in seen_names:
            err(record.ref, cols["name"], f"duplicate of {seen_names[lowered]}", "duplicate")
            continue
        seen_names[lowered] = record.ref
        match = by_sourced.get(record.sourced_id) or by_name.get(lowered)
        owner = by_name.get(lowered)
        if owner is not None and match is not None and owner["id"] != match["id"]:
            err(record.ref, cols["name"], "another school has this name", "conflict")
            continue
        school = PlannedSchool(
            record.ref, record.sourced_id, record.name, match["id"] if match else new_id(), match
        )
        if match is not None:
            school.changed = [
                name for name in ("name", "sourced_id") if getattr(school, name) != match[name]
            ]
        if not principal.manages_district_staff and (
            match is None or school.changed or match["id"] not in principal.school_ids
        ):
            err(
                record.ref,
                cols["sourced_id"],
                "school administrators import staff of their own schools only",
                "forbidden",
            )
            continue
        planned.append(school)
    return planned


# -- people ----------------------------------------------------------------------------------


async def _existing_people(
    session: AsyncSession, emails: list[str], sourced: list[str]
) -> list[dict[str, Any]]:
    """Stored people with any of the emails or roster ids, with their school ids."""
    found: dict[uuid.UUID, dict[str, Any]] = {}
    columns = table_of(User).columns
    if len(emails) + len(sourced) > FULL_SCAN:
        # A district-sized roster names most of the staff: one pass over the table beats
        # hundreds of IN (...) lookups.
        wanted_emails, wanted_sourced = set(emails), set(sourced)
        for r in (await session.execute(select(*columns))).mappings():
            if r["email"] in wanted_emails or r["sourced_id"] in wanted_sourced:
                found[r["id"]] = {**dict(r), "school_ids": set()}
        memberships = await session.execute(
            select(col(SchoolMembership.user_id), col(SchoolMembership.school_id))
        )
        for user_id, school_id in memberships:
            if user_id in found:
                found[user_id]["school_ids"].add(school_id)
        return list(found.values())
    for i in range(0, max(len(emails), len(sourced)), CHUNK):
        cond = []
        if emails[i : i + CHUNK]:
            cond.append(col(User.email).in_(emails[i : i + CHUNK]))
        if sourced[i : i + CHUNK]:
            cond.append(col(User.sourced_id).in_(sourced[i : i + CHUNK]))
        rows = await session.execute(select(*columns).where(or_(*cond)))
        for r in rows.mappings():
            found[r["id"]] = {**dict(r), "school_ids": set()}
    await _add_memberships(session, found)
    return list(found.values())


async def _add_memberships(session: AsyncSession, users: dict[uuid.UUID, dict[str, Any]]) -> None:
    ids = list(users)
    for i in range(0, len(ids), CHUNK):
        for user_id, school_id in await session.execute(
            select(col(SchoolMembership.user_id), col(SchoolMembership.school_id)).where(
                col(SchoolMembership.user_id).in_(ids[i : i + CHUNK])
            )
        ):
            users[user_id]["school_ids"].add(school_id)


def _school_resolver(
    stored: list[dict[str, Any]], planned: list[PlannedSchool], roster: Roster
) -> Callable[[str], uuid.UUID | None]:
    # A school the file lists but that was refused already has its error: people at it get a
    # placeholder rather than a second, misleading "unknown school".
    from_file = {s.sourced_id: new_id() for s in roster.schools}
    from_file |= {s.sourced_id: s.id for s in planned}
    index: dict[str, uuid.UUID] = {}
    for s in stored:
        index[s["name"].lower()] = s["id"]
        if s["sourced_id"]:
            index[s["sourced_id"].lower()] = s["id"]

    def resolve(ref: str) -> uuid.UUID | None:
        return from_file.get(ref) or index.get(ref.lower())

    return resolve


# A plain ASCII local part ("dot-atom"): the form nearly every staff address takes.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")


@lru_cache(maxsize=4096)
def _domain(domain: str) -> str | EmailNotValidError:
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).domain
    except EmailNotValidError as exc:
        return exc


def normalize_email(text: str) -> str:
    """The same answer as email_validator, lower-cased; a district's thousands of addresses
    share a few domains, so each domain is checked once and plain local parts by pattern."""
    local, at, domain = text.rpartition("@")
    if at and len(text) <= 254 and len(local) <= 64 and _DOT_ATOM.match(local):
        checked = _domain(domain)
        if isinstance(checked, EmailNotValidError):
            raise checked
        return f"{local}@{checked}".lower()
    return validate_email(text, check_deliverability=False).normalized.lower()


def _validate_person(
    record: PersonRecord,
    resolve: Callable[[str], uuid.UUID | None],
    principal: Principal,
    err: ErrorSink,
) -> Planned | None:
    cols, ref = record.columns, record.ref
    bad = False
    for name, limit in LIMITS.items():
        value = getattr(record, name) or ""
        if len(value) > limit:
            err(ref, cols[name], f"longer than {limit} characters", "too_long")
            bad = True
        if "\x00" in value:
            err(ref, cols[name], "contains a NUL character")
            bad = True
    for name in ("given_name", "family_name"):
        if not getattr(record, name):
            err(ref, cols[name], "required", "missing")
            bad = True
    email = ""
    if not record.email:
        err(ref, cols["email"], "required (staff sign in with their email)", "missing")
        bad = True
    elif not bad:
        try:
            email = normalize_email(record.email)
        except EmailNotValidError as exc:
            err(ref, cols["email"], str(exc))
            bad = True
    school_ids: set[uuid.UUID] | None = None
    if record.schools is not None:
        school_ids = set()
        for school in record.schools:
            if (school_id := resolve(school)) is not None:
                school_ids.add(school_id)
            else:
                err(ref, cols["schools"], f"unknown school {school!r}", "unknown_school")
                bad = True
    if bad:
        return None
    return Planned(
        ref,
        email,
        record.given_name,
        record.family_name,
        record.role,
        record.sourced_id,
        school_ids,
        record.enabled,
        columns=cols,
    )


async def _plan_people(
    session: AsyncSession,
    roster: Roster,
    resolve: Callable[[str], uuid.UUID | None],
    principal: Principal,
    options: ImportOptions,
    err: ErrorSink,
    plan: Plan,
) -> None:
    # People a delta names without a role: known ones keep their role, others are not staff.
    roleless = [r for r in roster.people if r.role is None and r.sourced_id]
    known: set[str] = set()
    if roleless:
        stored = await _existing_people(session, [], [r.sourced_id for r in roleless])  # type: ignore[misc]
        known = {s["sourced_id"] for s in stored}
    # Checking every row is CPU work in proportion to the roster: off the event loop.
    await anyio.to_thread.run_sync(
        _validate_all, roster, known, resolve, principal, options, err, plan
    )
    existing = await _existing_people(
        session,
        [p.email for p in plan.people],
        [p.sourced_id for p in plan.people if p.sourced_id],
    )
    await anyio.to_thread.run_sync(_match_all, existing, principal, err, plan)


def _validate_all(
    roster: Roster,
    known: set[str],
    resolve: Callable[[str], uuid.UUID | None],
    principal: Principal,
    options: ImportOptions,
    err: ErrorSink,
    plan: Plan,
) -> None:
    seen_email: dict[str, str] = {}
    seen_sourced: dict[str, str] = {}
    for record in roster.people:
        if record.role is None and record.sourced_id not in known:
            plan.skipped += 1
            continue
        planned = _validate_person(record, resolve, principal, err)
        if record.sourced_id is not None:
            if record.sourced_id in seen_sourced:
                err(
                    record.ref,
                    record.columns["sourced_id"],
                    f"duplicate of {seen_sourced[record.sourced_id]}",
                    "duplicate",
                )
                planned = None
            seen_sourced.setdefault(record.sourced_id, record.ref)
        if planned is None:
            continue
        if planned.email in seen_email:
            err(
                record.ref,
                record.columns["email"],
                f"duplicate of {seen_email[planned.email]}",
                "duplicate",
            )
            continue
        seen_email[planned.email] = record.ref
        if options.mode == ImportMode.sync and planned.is_active is None:
            planned.is_active = True  # present in the district's roster: active
        plan.people.append(planned)


def _match_all(
    existing: list[dict[str, Any]], principal: Principal, err: ErrorSink, plan: Plan
) -> None:
    by_email = {e["email"]: e for e in existing}
    by_sourced = {e["sourced_id"]: e for e in existing if e["sourced_id"]}
    for p in plan.people:
        match = by_sourced.get(p.sourced_id) if p.sourced_id else None
        match = match or by_email.get(p.email)
        if match is not None and p.email != match["email"] and p.email in by_email:
            err(p.ref, p.columns["email"], "belongs to another staff member", "conflict")
            continue
        problem = _change_problem(principal, p, match, err)
        if problem is ChangeProblem.outside:
            plan.outside += 1
        if problem is not None:
            continue
        p.existing = match
        if match is None:
            p.action = "created"
            continue
        for name in ("email", "given_name", "family_name", "role", "sourced_id", "is_active"):
            new = getattr(p, name)
            if new is not None and new != match[name]:
                p.changed.append(name)
        if p.school_ids is not None and p.school_ids != match["school_ids"]:
            p.changed.append("school_ids")
        p.action = "updated" if p.changed else "unchanged"


def _state(user: dict[str, Any]) -> StaffState:
    return StaffState(Role(user["role"]), frozenset(user["school_ids"]), bool(user["is_active"]))


_BLAME = {
    ChangeProblem.outside: "email",
    ChangeProblem.self_change: "role",
    ChangeProblem.role: "role",
    ChangeProblem.schools: "schools",
}


def _change_problem(
    principal: Principal, p: Planned, match: dict[str, Any] | None, err: ErrorSink
) -> ChangeProblem | None:
    """The rule of PATCH /users and POST /users (users/policies.change_problem), applied to
    who the matched person is now and what the row makes of them."""
    current = None if match is None else _state(match)
    new = StaffState(
        p.role or (current.role if current else Role.teacher),
        frozenset(p.school_ids) if p.school_ids is not None else (
            current.school_ids if current else frozenset()
        ),
        p.is_active if p.is_active is not None else (current.is_active if current else True),
    )  # fmt: skip
    problem = change_problem(principal, match["id"] if match else None, current, new)
    if problem is None:
        return None
    kind, message = problem
    err(p.ref, p.columns.get(_BLAME[kind]) or _BLAME[kind], message, "forbidden")
    return kind


# -- sync ------------------------------------------------------------------------------------


async def _staff_of(session: AsyncSession, schools: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """Active staff with a membership in any of the schools, with all their memberships."""
    found: dict[uuid.UUID, dict[str, Any]] = {}
    ids = list(schools)
    for i in range(0, len(ids), CHUNK):
        members = select(col(SchoolMembership.user_id)).where(
            col(SchoolMembership.school_id).in_(ids[i : i + CHUNK])
        )
        rows = await session.execute(
            select(*table_of(User).columns).where(col(User.id).in_(members), col(User.is_active))
        )
        for r in rows.mappings():
            found[r["id"]] = {**dict(r), "school_ids": set()}
    await _add_memberships(session, found)
    return found


async def _plan_sync(
    session: AsyncSession, roster: Roster, principal: Principal, plan: Plan, err: ErrorSink
) -> None:
    if roster.lists_schools:
        covered = {s.id for s in plan.schools}
    else:
        covered = set().union(*(p.school_ids or set() for p in plan.people))
    caller = principal.user.id if principal.user else None
    if roster.delta:
        removed = {r.sourced_id: r for r in roster.removals}
        stored = await _existing_people(session, [], list(removed))
        plan.deactivate = [s for s in stored if s["is_active"] and s["id"] != caller]
        for s in plan.deactivate:
            current = _state(s)
            gone = StaffState(current.role, current.school_ids, False)
            problem = change_problem(principal, s["id"], current, gone)
            if problem is not None:
                err(removed[s["sourced_id"]].ref, "sourcedId", problem[1], "forbidden")
        # The guard's measure: the staff of the schools the delta touches.
        covered |= set().union(*(s["school_ids"] for s in plan.deactivate))
        plan.active_covered = len(await _staff_of(session, covered))
        return
    staff = await _staff_of(session, covered)
    plan.active_covered = len(staff)
    in_file = {p.existing["id"] for p in plan.people if p.existing is not None}
    for user_id, user in staff.items():
        if user_id in in_file or user_id == caller or user["role"] == Role.district_admin:
            continue
        elsewhere = user["school_ids"] - covered
        if not elsewhere:
            plan.deactivate.append(user)
            continue
        # Also at a school this file does not cover: only the covered memberships end.
        plan.people.append(
            Planned(
                ref="",
                email=user["email"],
                given_name=user["given_name"],
                family_name=user["family_name"],
                role=None,
                sourced_id=user["sourced_id"],
                school_ids=elsewhere,
                is_active=None,
                existing=user,
                changed=["school_ids"],
                action="updated",
            )
        )


# -- the plan ----------------------------------------------------------------------------------


async def plan_import(
    session: AsyncSession, principal: Principal, roster: Roster, options: ImportOptions
) -> tuple[Plan, list[FieldError]]:
    err = roster.error
    plan = Plan(skipped=roster.skipped)
    stored = await _stored_schools(session)
    plan.schools = _plan_schools(roster, stored, principal, err)
    resolve = _school_resolver(stored, plan.schools, roster)
    await _plan_people(session, roster, resolve, principal, options, err, plan)
    if options.mode == ImportMode.sync:
        await _plan_sync(session, roster, principal, plan, err)
    else:
        plan.skipped += len(roster.removals)  # tobedeleted rows act only in a sync
    return plan, roster.errors


def sync_guard(plan: Plan, options: ImportOptions) -> FieldError | None:
    limit = options.max_deactivate_share * plan.active_covered
    if options.mode != ImportMode.sync or options.force or len(plan.deactivate) <= limit:
        return None
    return FieldError(
        field="mode",
        message=(
            f"this sync would deactivate {len(plan.deactivate)} of {plan.active_covered} active "
            f"staff of the schools it covers, more than {options.max_deactivate_share:.0%}; "
            "check the export is complete, then run it again with force to go ahead"
        ),
        type="sync_guard",
    )

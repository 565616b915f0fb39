"""Staff roster imports, whatever the format: match schools and people to what is stored, check
the caller may make the changes, work out a sync's deactivations, then write in batches.

Everything is validated before anything is written: any row error rejects the whole import with
every error listed by file, row and column, and only the import's log record is kept.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import anyio.to_thread
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, insert, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.throttle import STAFF_LOOKUPS, staff_lookup_key, staff_lookups
from app.core.config import Settings
from app.core.db import new_id, utcnow
from app.core.errors import FieldError, ProblemError, Unprocessable
from app.rosters import formats, policies
from app.rosters.formats import RosterFormat
from app.rosters.formats.plain import read_rows
from app.rosters.models import RosterImport, RosterImportRow
from app.rosters.records import PersonRecord, Roster, TooManyPeople
from app.rosters.schemas import ImportMode, ImportResult, RowOutcome, SchoolOutcome
from app.rosters.sources import ReadLimits, RosterFiles, file_error
from app.schools.models import School
from app.users.models import Role, SchoolMembership, User
from app.users.policies import ChangeProblem, StaffState, change_problem

LIMITS = {"email": 320, "given_name": 100, "family_name": 100, "sourced_id": 255}
SCHOOL_NAME_LIMIT = 200
CHUNK = 500
FULL_SCAN = 4000  # names looked up above which one pass over the table is cheaper


@dataclass(frozen=True)
class ImportOptions:
    format: RosterFormat
    mode: ImportMode
    dry_run: bool
    force: bool  # lets a sync deactivate more than the configured share of staff
    max_deactivate_share: float
    school_time_zone: str  # given to schools an org file creates
    max_lines: int = 1_000_000
    max_seconds: float = 60.0
    max_people: int = 100_000
    max_errors: int = 100
    staff_lookup_budget: int = 20

    @classmethod
    def from_settings(
        cls, settings: Settings, fmt: RosterFormat, mode: ImportMode, *, dry_run: bool, force: bool
    ) -> ImportOptions:
        return cls(
            fmt, mode, dry_run, force,
            settings.roster_sync_max_deactivate_share, settings.district_time_zone,
            settings.roster_max_lines, settings.roster_max_parse_seconds,
            settings.roster_max_people, settings.roster_max_errors,
            settings.staff_lookup_budget,
        )  # fmt: skip

    def limits(self) -> ReadLimits:
        return ReadLimits(self.max_lines, self.max_seconds, self.max_people, self.max_errors)


class ImportRejected(Unprocessable):
    persist = True  # the failed import's record is kept; nothing else was written


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
    rows = await session.execute(select(School.id, School.name, School.sourced_id))
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
    columns = User.__table__.columns
    if len(emails) + len(sourced) > FULL_SCAN:
        # A district-sized roster names most of the staff: one pass over the table beats
        # hundreds of IN (...) lookups.
        wanted_emails, wanted_sourced = set(emails), set(sourced)
        for r in (await session.execute(select(*columns))).mappings():
            if r["email"] in wanted_emails or r["sourced_id"] in wanted_sourced:
                found[r["id"]] = {**dict(r), "school_ids": set()}
        memberships = await session.execute(
            select(SchoolMembership.user_id, SchoolMembership.school_id)
        )
        for user_id, school_id in memberships:
            if user_id in found:
                found[user_id]["school_ids"].add(school_id)
        return list(found.values())
    for i in range(0, max(len(emails), len(sourced)), CHUNK):
        cond = []
        if emails[i : i + CHUNK]:
            cond.append(User.email.in_(emails[i : i + CHUNK]))
        if sourced[i : i + CHUNK]:
            cond.append(User.sourced_id.in_(sourced[i : i + CHUNK]))
        rows = await session.execute(select(*columns).where(or_(*cond)))
        for r in rows.mappings():
            found[r["id"]] = {**dict(r), "school_ids": set()}
    await _add_memberships(session, found)
    return list(found.values())


async def _add_memberships(session: AsyncSession, users: dict[uuid.UUID, dict[str, Any]]) -> None:
    ids = list(users)
    for i in range(0, len(ids), CHUNK):
        for user_id, school_id in await session.execute(
            select(SchoolMembership.user_id, SchoolMembership.school_id).where(
                SchoolMembership.user_id.in_(ids[i : i + CHUNK])
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
        members = select(SchoolMembership.user_id).where(
            SchoolMembership.school_id.in_(ids[i : i + CHUNK])
        )
        rows = await session.execute(
            select(*User.__table__.columns).where(User.id.in_(members), User.is_active)
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


# -- writing ---------------------------------------------------------------------------------


async def _apply(session: AsyncSession, plan: Plan, time_zone: str) -> None:
    now = utcnow()
    new_schools = [
        {
            "id": s.id,
            "name": s.name,
            "sourced_id": s.sourced_id,
            "time_zone": time_zone,
            "created_at": now,
            "updated_at": now,
        }
        for s in plan.schools
        if s.existing is None
    ]
    for i in range(0, len(new_schools), CHUNK):
        await session.execute(insert(School.__table__), new_schools[i : i + CHUNK])
    renamed = [
        {"id": s.id, "updated_at": now, **{name: getattr(s, name) for name in s.changed}}
        for s in plan.schools
        if s.existing is not None and s.changed
    ]
    await _update_grouped(session, School, renamed)

    new_users: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    add: list[dict[str, Any]] = []
    drop: list[tuple[uuid.UUID, uuid.UUID]] = []
    for p in plan.people:
        if p.existing is None:
            user_id = new_id()
            new_users.append(
                {
                    "id": user_id,
                    "email": p.email,
                    "given_name": p.given_name,
                    "family_name": p.family_name,
                    "role": p.role,
                    "sourced_id": p.sourced_id,
                    "is_active": p.is_active is not False,
                    "token_version": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            add += [{"user_id": user_id, "school_id": s} for s in p.school_ids or ()]
            continue
        if not p.changed:
            continue
        user = p.existing
        values: dict[str, Any] = {"id": user["id"], "updated_at": now}
        for name in p.changed:
            if name != "school_ids":
                values[name] = getattr(p, name)
        if "is_active" in p.changed and not p.is_active:
            values["token_version"] = user["token_version"] + 1  # tokens stop working at once
        updates.append(values)
        if "school_ids" in p.changed and p.school_ids is not None:
            add += [
                {"user_id": user["id"], "school_id": s} for s in p.school_ids - user["school_ids"]
            ]
            drop += [(user["id"], s) for s in user["school_ids"] - p.school_ids]
    updates += [
        {
            "id": u["id"],
            "is_active": False,
            "token_version": u["token_version"] + 1,
            "updated_at": now,
        }
        for u in plan.deactivate
    ]
    # Batched: a few statements per kind of change, whatever the roster's size.
    for i in range(0, len(new_users), CHUNK):
        await session.execute(insert(User.__table__), new_users[i : i + CHUNK])
    await _update_grouped(session, User, updates)
    for i in range(0, len(drop), CHUNK):
        await session.execute(
            delete(SchoolMembership).where(
                tuple_(SchoolMembership.user_id, SchoolMembership.school_id).in_(
                    drop[i : i + CHUNK]
                )
            )
        )
    for i in range(0, len(add), CHUNK):
        await session.execute(insert(SchoolMembership.__table__), add[i : i + CHUNK])


async def _update_grouped(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk UPDATE by primary key; rows that set the same columns go in one executemany."""
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for values in rows:
        groups.setdefault(frozenset(values), []).append(values)
    for group in groups.values():
        for i in range(0, len(group), CHUNK):
            await session.execute(update(model), group[i : i + CHUNK])


# -- the import ------------------------------------------------------------------------------


async def _plan(
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


def _guard(plan: Plan, options: ImportOptions) -> FieldError | None:
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


async def _lock(session: AsyncSession) -> None:
    """One import at a time: two concurrent imports must not both create the same person."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('roster', 0))"))
    # SQLite: write transactions take the database's write lock when they begin.


async def import_files(
    session: AsyncSession,
    principal: Principal,
    open_files: Callable[[], RosterFiles],
    options: ImportOptions,
) -> ImportResult:
    """Open, hash and parse the files in a worker thread (they stream from disk), within the
    import's limits (lines, staff, time), then import. A file that cannot be read is rejected
    and logged like any other failed import."""
    started = time.perf_counter()
    files: RosterFiles | None = None

    def parse() -> Roster:
        nonlocal files
        files = open_files()
        files.limits = options.limits()
        files.limits.start()
        with _people_limit(options):
            return formats.read(files, options.format)

    try:
        roster = await anyio.to_thread.run_sync(parse)
    except ProblemError as exc:
        errors = exc.errors or []
        await _record(
            session,
            principal,
            files.sha256 if files else "",
            files.filename if files else None,
            options.format.value,
            options,
            started,
            errors=errors,
            error_count=len(errors),
        )
        raise ImportRejected(exc.detail, errors=exc.errors) from exc
    finally:
        if files is not None:
            files.close()
    assert files is not None
    return await import_roster(
        session,
        principal,
        roster,
        sha256=files.sha256,
        filename=files.filename,
        options=options,
        started=started,
    )


@contextlib.contextmanager
def _people_limit(options: ImportOptions) -> Iterator[None]:
    try:
        yield
    except TooManyPeople as exc:
        raise file_error(
            str(exc),
            f"the import names more than {options.max_people} staff; split it",
            "too_many_people",
        ) from exc


def roster_of_rows(rows: Iterable[tuple[int, dict[str, str]]], options: ImportOptions) -> Roster:
    """The JSON import's people as a roster, within the import's limits (in a worker thread)."""
    with _people_limit(options):
        return read_rows(
            rows, fmt="json", max_people=options.max_people, max_errors=options.max_errors
        )


async def import_roster(
    session: AsyncSession,
    principal: Principal,
    roster: Roster,
    *,
    sha256: str,
    filename: str | None,
    options: ImportOptions,
    started: float | None = None,
) -> ImportResult:
    started = time.perf_counter() if started is None else started
    await _lock(session)
    limited = principal.user is not None and not principal.manages_district_staff
    budget = staff_lookups(options.staff_lookup_budget)
    if limited:
        assert principal.user is not None
        await budget.check(session, staff_lookup_key(principal.user.id), STAFF_LOOKUPS)
    plan, errors = await _plan(session, principal, roster, options)
    if plan.outside and limited:
        # Each such row tells the caller someone exists at another school: the same daily
        # budget as POST /users (429 once spent, with no row listed).
        assert principal.user is not None
        await budget.spend(
            session, staff_lookup_key(principal.user.id), plan.outside, STAFF_LOOKUPS
        )
    guard = None if errors else _guard(plan, options)
    if errors or guard:
        errors = errors or [guard]  # type: ignore[list-item]
        count = roster.error_count if roster.error_count else len(errors)
        await _record(
            session, principal, sha256, filename, roster.format, options, started,
            errors=errors, error_count=count,
        )  # fmt: skip
        shown = f" (the first {len(errors)} are listed)" if count > len(errors) else ""
        detail = (
            f"The sync was refused: {guard.message}"
            if guard
            else f"The import was rejected: {count} problem(s){shown}; nothing was changed"
        )
        raise ImportRejected(detail, errors=errors)
    people = [p for p in plan.people if p.ref]
    counts = {
        "created": sum(1 for p in people if p.action == "created"),
        "updated": sum(1 for p in plan.people if p.action == "updated"),
        "unchanged": sum(1 for p in people if p.action == "unchanged"),
        "deactivated": len(plan.deactivate),
        "skipped": plan.skipped,
        "schools_created": sum(1 for s in plan.schools if s.existing is None),
        "schools_updated": sum(1 for s in plan.schools if s.existing is not None and s.changed),
    }
    if not options.dry_run:
        await _apply(session, plan, options.school_time_zone)
    record = await _record(
        session, principal, sha256, filename, roster.format, options, started, counts=counts
    )
    outcomes = [_outcome(p) for p in plan.people] + [
        {
            "row": None,
            "file": None,
            "email": u["email"],
            "sourced_id": u["sourced_id"],
            "action": "deactivated",
            "changed_fields": ["is_active"],
        }
        for u in plan.deactivate
    ]
    await _store_outcomes(session, record.id, outcomes)
    return ImportResult(
        id=record.id,
        format=roster.format,
        mode=options.mode.value,
        dry_run=options.dry_run,
        **counts,
        rows_total=len(outcomes),
        rows=[RowOutcome.model_validate(o) for o in outcomes[:ROWS_SHOWN]],
        rows_next=None,
        schools=[
            SchoolOutcome(
                sourced_id=s.sourced_id,
                name=s.name,
                action="created"
                if s.existing is None
                else ("updated" if s.changed else "unchanged"),
                changed_fields=s.changed,
            )
            for s in plan.schools
        ],
    )


ROWS_SHOWN = 50  # outcomes in the import's answer; the rest are paged (rows_statement)


def _outcome(p: Planned) -> dict[str, Any]:
    file, _, row = p.ref.rpartition("row ")
    return {
        "row": int(row) if row.isdigit() else None,
        "file": file.strip() or None,
        "email": p.email,
        "sourced_id": p.sourced_id,
        "action": p.action,
        "changed_fields": p.changed,
    }


async def _store_outcomes(
    session: AsyncSession, import_id: uuid.UUID, outcomes: list[dict[str, Any]]
) -> None:
    rows = [{"import_id": import_id, "position": i, **o} for i, o in enumerate(outcomes)]
    for i in range(0, len(rows), CHUNK):
        await session.execute(insert(RosterImportRow.__table__), rows[i : i + CHUNK])


def rows_statement(import_id: uuid.UUID, action: str | None) -> Any:
    """One import's per-person outcomes, in the order it reported them."""
    stmt = select(
        RosterImportRow.row,
        RosterImportRow.file,
        RosterImportRow.email,
        RosterImportRow.sourced_id,
        RosterImportRow.action,
        RosterImportRow.changed_fields,
    ).where(RosterImportRow.import_id == import_id)
    if action is not None:
        stmt = stmt.where(RosterImportRow.action == action)
    return stmt.order_by(RosterImportRow.position)


async def _record(
    session: AsyncSession,
    principal: Principal,
    sha256: str,
    filename: str | None,
    fmt: str,
    options: ImportOptions,
    started: float,
    *,
    counts: dict[str, int] | None = None,
    errors: list[FieldError] | None = None,
    error_count: int = 0,
) -> RosterImport:
    record = RosterImport(
        actor_user_id=principal.user.id if principal.user else None,
        actor_key_id=principal.key.id if principal.key else None,
        filename=(filename or None) and filename[:255],
        sha256=sha256,
        format=fmt,
        mode=options.mode.value,
        dry_run=options.dry_run,
        succeeded=errors is None,
        counts=counts or {},
        errors=[e.model_dump() for e in (errors or [])[: options.max_errors]],
        error_count=error_count,
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
    session.add(record)
    await session.flush()
    return record


# -- the log ---------------------------------------------------------------------------------


def imports_statement(principal: Principal) -> Any:
    return (
        select(*RosterImport.__table__.columns)
        .where(policies.visible_imports(principal))
        .order_by(RosterImport.created_at.desc(), RosterImport.id)
    )

"""Staff roster imports (plain CSV and JSON, upsert). Validation is complete before anything is
written: any row error rejects the whole import, listing every error by row and column."""

from __future__ import annotations

import csv
import hashlib
import io
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, insert, or_, select, true, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.db import new_id, utcnow
from app.core.errors import FieldError, NotFound, Unprocessable
from app.rosters.models import RosterImport
from app.rosters.schemas import ImportResult, RowOutcome
from app.schools.models import School
from app.users.models import Role, SchoolMembership, User

ROLES = {
    "teacher": Role.teacher,
    "school_admin": Role.school_admin,
    "administrator": Role.school_admin,
    "principal": Role.school_admin,
    "siteadministrator": Role.school_admin,
    "district_admin": Role.district_admin,
    "districtadministrator": Role.district_admin,
    "systemadministrator": Role.district_admin,
}
HEADERS = {
    "email": {"email", "e-mail", "email address", "mail"},
    "given_name": {"given_name", "given name", "first name", "firstname", "first_name", "given"},
    "family_name": {"family_name", "family name", "last name", "lastname", "last_name", "surname"},
    "role": {"role", "position"},
    "school": {"school", "schools", "school name", "building"},
    "sourced_id": {"sourced_id", "sourcedid", "staff id", "staff_id", "employee id"},
}
REQUIRED = ("email", "given_name", "family_name", "role")
LIMITS = {"email": 320, "given_name": 100, "family_name": 100, "sourced_id": 255}
CHUNK = 500


class ImportRejected(Unprocessable):
    persist = True  # the failed import's record is kept; nothing else was written


@dataclass
class Planned:
    row: int
    email: str
    given_name: str
    family_name: str
    role: Role
    sourced_id: str | None
    school_ids: set[uuid.UUID] | None
    existing: dict[str, Any] | None = None
    changed: list[str] = field(default_factory=list)


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unprocessable(
            f"The file is not UTF-8 (byte {exc.start}); save it as 'CSV UTF-8' and try again",
            errors=[FieldError(field="file", message="not UTF-8 text", type="encoding")],
        ) from exc


def parse_plain_csv(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise Unprocessable(
            "The file is empty", errors=[FieldError(field="file", message="empty", type="empty")]
        )
    columns: dict[int, str] = {}
    for i, name in enumerate(header):
        key = name.strip().lower()
        for canonical, aliases in HEADERS.items():
            if key in aliases:
                columns[i] = canonical
    missing = [c for c in REQUIRED if c not in columns.values()]
    if missing:
        raise Unprocessable(
            f"Missing columns: {', '.join(missing)}",
            errors=[
                FieldError(field=f"header.{c}", message="column missing", type="missing")
                for c in missing
            ],
        )
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue  # blank line
        rows.append((number, {columns[i]: v.strip() for i, v in enumerate(values) if i in columns}))
    return rows


async def _school_index(session: AsyncSession) -> dict[str, uuid.UUID]:
    index: dict[str, uuid.UUID] = {}
    for school_id, name, sourced in await session.execute(
        select(School.id, School.name, School.sourced_id)
    ):
        index[name.lower()] = school_id
        if sourced:
            index[sourced.lower()] = school_id
    return index


async def _existing(
    session: AsyncSession, emails: list[str], sourced: list[str]
) -> list[dict[str, Any]]:
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for i in range(0, max(len(emails), len(sourced)), CHUNK):
        cond = []
        if emails[i : i + CHUNK]:
            cond.append(User.email.in_(emails[i : i + CHUNK]))
        if sourced[i : i + CHUNK]:
            cond.append(User.sourced_id.in_(sourced[i : i + CHUNK]))
        rows = await session.execute(select(*User.__table__.columns).where(or_(*cond)))
        for r in rows.mappings():
            found[r["id"]] = {**dict(r), "school_ids": set()}
    ids = list(found)
    for i in range(0, len(ids), CHUNK):
        for user_id, school_id in await session.execute(
            select(SchoolMembership.user_id, SchoolMembership.school_id).where(
                SchoolMembership.user_id.in_(ids[i : i + CHUNK])
            )
        ):
            found[user_id]["school_ids"].add(school_id)
    return list(found.values())


async def plan_rows(
    session: AsyncSession, principal: Principal, rows: list[tuple[int, dict[str, str]]]
) -> tuple[list[Planned], list[FieldError]]:
    errors: list[FieldError] = []
    schools = await _school_index(session)
    planned: list[Planned] = []
    seen_email: dict[str, int] = {}
    seen_sourced: dict[str, int] = {}

    def err(row: int, column: str, message: str, kind: str = "invalid") -> None:
        errors.append(FieldError(field=f"row {row}.{column}", message=message, type=kind))

    for number, data in rows:
        bad = False
        for column in REQUIRED:
            if not data.get(column):
                err(number, column, "required", "missing")
                bad = True
        for column, limit in LIMITS.items():
            value = data.get(column) or ""
            if len(value) > limit:
                err(number, column, f"longer than {limit} characters", "too_long")
                bad = True
            if "\x00" in value:
                err(number, column, "contains a NUL character")
                bad = True
        if bad:
            continue
        try:
            email = validate_email(data["email"], check_deliverability=False).normalized.lower()
        except EmailNotValidError as exc:
            err(number, "email", str(exc))
            continue
        role = ROLES.get(data["role"].replace(" ", "").lower())
        if role is None:
            err(number, "role", f"unknown role {data['role']!r}", "unknown_role")
            continue
        school_ids: set[uuid.UUID] | None = None
        if data.get("school"):
            school_ids = set()
            for ref in (s.strip() for s in data["school"].split(";")):
                if ref and (sid := schools.get(ref.lower())) is not None:
                    school_ids.add(sid)
                elif ref:
                    err(number, "school", f"unknown school {ref!r}", "unknown_school")
                    bad = True
        if not principal.is_district_admin and principal.key is None:
            if role == Role.district_admin:
                err(
                    number,
                    "role",
                    "only district administrators import district administrators",
                    "forbidden",
                )
                bad = True
            if not school_ids or not school_ids <= principal.school_ids:
                err(
                    number,
                    "school",
                    "school administrators import staff of their own schools",
                    "forbidden",
                )
                bad = True
        if email in seen_email:
            err(number, "email", f"duplicate of row {seen_email[email]}", "duplicate")
            bad = True
        seen_email.setdefault(email, number)
        sourced = data.get("sourced_id") or None
        if sourced is not None:
            if sourced in seen_sourced:
                err(number, "sourced_id", f"duplicate of row {seen_sourced[sourced]}", "duplicate")
                bad = True
            seen_sourced.setdefault(sourced, number)
        if bad:
            continue
        planned.append(
            Planned(
                number, email, data["given_name"], data["family_name"], role, sourced, school_ids
            )
        )

    existing = await _existing(
        session, [p.email for p in planned], [p.sourced_id for p in planned if p.sourced_id]
    )
    by_email = {e["email"]: e for e in existing}
    by_sourced = {e["sourced_id"]: e for e in existing if e["sourced_id"]}
    for p in planned:
        match = by_sourced.get(p.sourced_id) if p.sourced_id else None
        match = match or by_email.get(p.email)
        if match is not None and p.email != match["email"] and p.email in by_email:
            err(p.row, "email", "belongs to another staff member", "conflict")
            continue
        p.existing = match
        if match is None:
            continue
        for name in ("email", "given_name", "family_name", "role", "sourced_id"):
            new = getattr(p, name)
            if new is not None and new != match[name]:
                p.changed.append(name)
        if p.school_ids is not None and p.school_ids != match["school_ids"]:
            p.changed.append("school_ids")
    return planned, errors


async def apply(session: AsyncSession, planned: list[Planned]) -> None:
    now = utcnow()
    new_users, memberships_add, memberships_drop, updates = [], [], [], []
    for p in planned:
        if p.existing is None:
            user_id = new_id()
            new_users.append(
                {
                    "id": user_id,
                    "email": p.email,
                    "given_name": p.given_name,
                    "family_name": p.family_name,
                    "role": p.role.value,
                    "sourced_id": p.sourced_id,
                    "is_active": True,
                    "token_version": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            memberships_add += [{"user_id": user_id, "school_id": s} for s in p.school_ids or ()]
        elif p.changed:
            values = {"id": p.existing["id"], "updated_at": now}
            for name in p.changed:
                if name != "school_ids":
                    value = getattr(p, name)
                    values[name] = value.value if isinstance(value, Role) else value
            updates.append(values)
            if "school_ids" in p.changed and p.school_ids is not None:
                old = p.existing["school_ids"]
                memberships_add += [
                    {"user_id": p.existing["id"], "school_id": s} for s in p.school_ids - old
                ]
                memberships_drop += [(p.existing["id"], s) for s in old - p.school_ids]
    # Batched: one statement per kind of change, whatever the roster's size.
    for i in range(0, len(new_users), CHUNK):
        await session.execute(insert(User), new_users[i : i + CHUNK])
    by_keys: dict[frozenset[str], list[dict[str, Any]]] = {}
    for values in updates:
        by_keys.setdefault(frozenset(values), []).append(values)
    for group in by_keys.values():
        await session.execute(update(User), group)
    for i in range(0, len(memberships_drop), CHUNK):
        pairs = memberships_drop[i : i + CHUNK]
        await session.execute(
            delete(SchoolMembership).where(
                tuple_(SchoolMembership.user_id, SchoolMembership.school_id).in_(pairs)
            )
        )
    for i in range(0, len(memberships_add), CHUNK):
        await session.execute(insert(SchoolMembership), memberships_add[i : i + CHUNK])


async def run_import(
    session: AsyncSession,
    principal: Principal,
    rows: list[tuple[int, dict[str, str]]],
    *,
    raw: bytes,
    fmt: str,
    filename: str | None,
    dry_run: bool,
) -> ImportResult:
    started = time.perf_counter()
    record = RosterImport(
        actor_user_id=principal.user.id if principal.user else None,
        actor_key_id=principal.key.id if principal.key else None,
        filename=(filename or None) and filename[:255],
        sha256=hashlib.sha256(raw).hexdigest(),
        format=fmt,
        mode="upsert",
        dry_run=dry_run,
        succeeded=False,
    )
    planned, errors = await plan_rows(session, principal, rows)
    if errors:
        record.errors = [e.model_dump() for e in errors]
        record.duration_ms = int((time.perf_counter() - started) * 1000)
        session.add(record)
        await session.flush()
        raise ImportRejected(
            f"The import was rejected: {len(errors)} problem(s); nothing was changed", errors=errors
        )
    created = sum(1 for p in planned if p.existing is None)
    updated = sum(1 for p in planned if p.existing is not None and p.changed)
    counts = {
        "created": created,
        "updated": updated,
        "unchanged": len(planned) - created - updated,
        "deactivated": 0,
        "skipped": 0,
    }
    if not dry_run:
        await apply(session, planned)
    record.succeeded, record.counts = True, counts
    record.duration_ms = int((time.perf_counter() - started) * 1000)
    session.add(record)
    await session.flush()
    outcome = [
        RowOutcome(
            row=p.row,
            email=p.email,
            action="created" if p.existing is None else ("updated" if p.changed else "unchanged"),
            changed_fields=p.changed,
        )
        for p in planned
    ]
    return ImportResult(
        id=record.id, format=fmt, mode="upsert", dry_run=dry_run, rows=outcome, **counts
    )


def visible_imports(principal: Principal) -> Any:
    """District administrators and roster keys see every import; school administrators theirs."""
    if principal.is_district_admin or principal.key is not None:
        return true()
    assert principal.user is not None
    return RosterImport.actor_user_id == principal.user.id


def imports_statement(principal: Principal) -> Any:
    return (
        select(*RosterImport.__table__.columns)
        .where(visible_imports(principal))
        .order_by(RosterImport.created_at.desc(), RosterImport.id)
    )


async def get_import(
    session: AsyncSession, principal: Principal, import_id: uuid.UUID
) -> RosterImport:
    row = (
        await session.execute(
            select(RosterImport).where(RosterImport.id == import_id, visible_imports(principal))
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("No such roster import")
    return row

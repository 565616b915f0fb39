"""Staff roster imports: read the files (sources, formats), plan (planning.py), refuse or write
(writing.py), and log every import, rejected ones included.

Everything is validated before anything is written: any row error rejects the whole import with
every error listed by file, row and column, and only the import's log record is kept.
"""

from __future__ import annotations

import contextlib
import functools
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import anyio.to_thread
from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.audit.models import AuditAction
from app.auth.principal import Principal, caller_values
from app.auth.throttle import STAFF_LOOKUPS, staff_lookup_key, staff_lookups
from app.core.access import public_columns
from app.core.errors import FieldError, ProblemError, Unprocessable
from app.core.pagination import PageQuery
from app.core.reads import Bound
from app.core.sql import AnySelect
from app.rosters import formats, policies
from app.rosters.formats.plain import read_rows
from app.rosters.models import RosterImport, RosterImportRow
from app.rosters.options import ImportOptions
from app.rosters.planning import Planned, plan_import, sync_guard
from app.rosters.records import Roster, TooManyPeople
from app.rosters.schemas import ImportResult, RosterImportPublic, RowOutcome, SchoolOutcome
from app.rosters.sources import RosterFiles, file_error
from app.rosters.writing import apply, store_outcomes


class ImportRejected(Unprocessable):
    persist = True  # the failed import's record is kept; nothing else was written


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
    plan, errors = await plan_import(session, principal, roster, options)
    if plan.outside and limited:
        # Each such row tells the caller someone exists at another school: the same daily
        # budget as POST /users (429 once spent, with no row listed).
        assert principal.user is not None
        await budget.spend(
            session, staff_lookup_key(principal.user.id), plan.outside, STAFF_LOOKUPS
        )
    guard = None if errors else sync_guard(plan, options)
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
        await apply(session, plan, options.school_time_zone)
    record = await _record(
        session, principal, sha256, filename, roster.format, options, started, counts=counts
    )
    if not options.dry_run:
        await audit.record(
            session,
            AuditAction.roster_imported,
            principal,
            object_id=record.id,
            format=roster.format,
            mode=options.mode.value,
            counts=counts,
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
    await store_outcomes(session, record.id, outcomes)
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


ROWS_SHOWN = 50  # outcomes in the import's answer; the rest are paged (rows_query)


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


def rows_query(import_id: uuid.UUID, action: str | None) -> tuple[PageQuery, dict[str, Any]]:
    """One import's per-person outcomes, in the order it reported them, with the values of
    its parameters."""
    return _rows_query(action is not None), {"import_id": import_id, "action": action}


@functools.cache
def _rows_query(by_action: bool) -> PageQuery:
    stmt = select(
        col(RosterImportRow.row),
        col(RosterImportRow.file),
        col(RosterImportRow.email),
        col(RosterImportRow.sourced_id),
        col(RosterImportRow.action),
        col(RosterImportRow.changed_fields),
    ).where(col(RosterImportRow.import_id) == bindparam("import_id"))
    if by_action:
        stmt = stmt.where(col(RosterImportRow.action) == bindparam("action"))
    return PageQuery(stmt, (RosterImportRow.position,))


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


def imports_query(principal: Principal) -> tuple[PageQuery, dict[str, Any]]:
    """The imports the caller may read, newest first, with the values of its parameters."""
    return _imports_query(principal.manages_district_staff), caller_values(principal)


def import_statement(principal: Principal, import_id: uuid.UUID) -> Bound:
    """One import's record, if the caller may read it."""
    values = {**caller_values(principal), "import_id": import_id}
    return Bound(_one_import(principal.manages_district_staff), values)


def seen_statement(principal: Principal, import_id: uuid.UUID) -> Bound:
    """The import's id, if the caller may read it."""
    values = {**caller_values(principal), "import_id": import_id}
    return Bound(_seen_import(principal.manages_district_staff), values)


@functools.cache
def _imports_query(everything: bool) -> PageQuery:
    stmt = select(*public_columns(RosterImport, RosterImportPublic)).where(
        policies.imports_within(everything)
    )
    return PageQuery(stmt, (col(RosterImport.created_at).desc(), RosterImport.id))


@functools.cache
def _one_import(everything: bool) -> AnySelect:
    return select(*public_columns(RosterImport, RosterImportPublic)).where(
        col(RosterImport.id) == bindparam("import_id"), policies.imports_within(everything)
    )


@functools.cache
def _seen_import(everything: bool) -> AnySelect:
    return _one_import(everything).with_only_columns(col(RosterImport.id))

"""School years: recorded and changed by district administrators; the dates that bound a
team's calendar and set what its progress says is due."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import rows
from app.core.access import public_columns
from app.core.db import utcnow
from app.core.errors import Conflict, FieldError, Unprocessable
from app.core.pagination import PageQuery
from app.core.reads import Bound
from app.core.sql import json_object
from app.events.models import EventKind
from app.school_years.models import SchoolYear
from app.school_years.schemas import (
    SchoolYearCreate,
    SchoolYearPublic,
    SchoolYearUpdate,
    check_dates,
)

_COLUMNS = public_columns(SchoolYear, SchoolYearPublic)
LIST = PageQuery(select(*_COLUMNS), (col(SchoolYear.starts_on).desc(), col(SchoolYear.id)))
_ONE = select(*_COLUMNS).where(col(SchoolYear.id) == bindparam("school_year_id"))


def one_statement(school_year_id: uuid.UUID) -> Bound:
    return Bound(_ONE, {"school_year_id": school_year_id})


def dates_column(label: Any) -> Any:
    """The program's dates of the school year named `label` (a team's `school_year` column),
    as one object column, null when the district has not recorded that year."""
    fields = {name: getattr(SchoolYear, name) for name in ("starts_on", "ends_on", *DUE)}
    return (
        select(json_object(**fields))
        .where(col(SchoolYear.label) == label)
        .scalar_subquery()
        .label("school_year_dates")
    )


DUE = ("plan_due_on", "observations_until", "year_end_meetings_until")


async def _label_free(session: AsyncSession, label: str) -> None:
    found = await session.execute(select(col(SchoolYear.id)).where(col(SchoolYear.label) == label))
    if found.first() is not None:
        raise Conflict(f"The school year {label} is already recorded")


async def _only_current(session: AsyncSession, year_id: uuid.UUID | None) -> None:
    """The year about to be current is the only one (the partial unique index holds the line
    against parallel requests: the later commit answers 409)."""
    stmt = update(SchoolYear).where(col(SchoolYear.is_current).is_(True))
    if year_id is not None:
        stmt = stmt.where(col(SchoolYear.id) != year_id)
    await session.execute(
        stmt.values(is_current=False, version=SchoolYear.version + 1).execution_options(
            synchronize_session=False
        )
    )


async def create(session: AsyncSession, data: SchoolYearCreate) -> SchoolYear:
    await _label_free(session, data.label)
    if data.is_current:
        await _only_current(session, None)
    year = SchoolYear(**data.model_dump())
    session.add(year)
    await session.flush()
    return year


async def update_year(
    session: AsyncSession, year: SchoolYear, data: SchoolYearUpdate
) -> SchoolYear:
    changes = rows.patch(year, data)
    merged = {**year.model_dump(), **changes}
    try:
        check_dates(merged)
    except ValueError as exc:
        error = FieldError(field="body", message=str(exc), type="value_error")
        raise Unprocessable(str(exc), errors=[error]) from None
    if changes.get("is_current"):
        await _only_current(session, year.id)
    for key, value in changes.items():
        setattr(year, key, value)
    rows.changed(year)
    session.add(year)
    await session.flush()
    return year


_ENDS_ON = select(col(SchoolYear.ends_on)).where(col(SchoolYear.label) == bindparam("label"))


def ends_on_of(label: Any) -> Any:
    """When the school year `label` (a column of a statement that checks more) ends, as a
    column `ends_on` (null for a label with no recorded year): what `check_open` reads."""
    return (
        select(col(SchoolYear.ends_on))
        .where(col(SchoolYear.label) == label)
        .scalar_subquery()
        .label("ends_on")
    )


async def require_open(session: AsyncSession, label: str) -> None:
    """A team's records are written while its school year lasts: once the recorded year has
    ended (its last day passed, in UTC), they are kept as they were (409)."""
    ends_on = await session.scalar(_ENDS_ON, {"label": label})
    if ends_on is not None:
        check_open(label, ends_on)


def check_open(label: str, ends_on: date) -> None:
    """`require_open` for a year already read."""
    if utcnow().date() > ends_on:
        raise Conflict(
            f"The school year {label} ended on {ends_on}: its records are kept as they were "
            "(continue the team into the next year: POST /teams/{id}/continue)"
        )


async def of_label(session: AsyncSession, label: str) -> SchoolYear | None:
    found = await session.execute(select(SchoolYear).where(col(SchoolYear.label) == label))
    return found.scalar_one_or_none()


def check_event(
    year: SchoolYear, kind: EventKind, starts_at: datetime, ends_at: datetime, zone: ZoneInfo
) -> None:
    """An event falls inside its team's school year, an observation inside the observation
    window, a year-end meeting inside theirs (days counted in the team's time zone): 422 on
    `starts_at` otherwise, typed so a front end can say which."""
    first, last = starts_at.astimezone(zone).date(), ends_at.astimezone(zone).date()
    _within(first, last, year.starts_on, year.ends_on, "outside_school_year",
            f"the school year {year.label}")  # fmt: skip
    if kind == EventKind.observation:
        _within(first, last, year.observations_from, year.observations_until,
                "outside_observation_window", "the observation window")  # fmt: skip
    elif kind == EventKind.year_end_meeting:
        _within(first, last, year.year_end_meetings_from, year.year_end_meetings_until,
                "outside_year_end_window", "the window for year-end meetings")  # fmt: skip


def _within(
    first: date, last: date, since: date | None, until: date | None, code: str, what: str
) -> None:
    if (since is None or first >= since) and (until is None or last <= until):
        return
    span = f"{since or '...'} to {until or '...'}"
    raise Unprocessable.for_field("starts_at", f"The event must fall within {what} ({span})", code)

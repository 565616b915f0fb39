"""Observation and conference records. Who may read: team members only, each from the time
they may see the team's records (app/teams/policies.py, can_read_confidential and
confidential_since); who may write an observation record: its observer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, NotFound
from app.events.deps import EventAccess
from app.events.models import Event, EventKind
from app.records.models import ConferenceRecord, ObservationRecord
from app.records.schemas import (
    ConferenceRecordWrite,
    ObservationRecordUpdate,
    ObservationRecordWrite,
)
from app.teams import policies
from app.teams.policies import TeamAccess

CONFERENCE_KINDS = frozenset({EventKind.pre_conference, EventKind.post_conference})


def _require_kind(event: Event, kinds: frozenset[EventKind], what: str) -> None:
    if event.kind not in kinds:
        raise Conflict(f"A {what} belongs to a {' or '.join(sorted(k.value for k in kinds))} event")


def _check_reach(principal: Principal, ev: EventAccess, created_at: datetime) -> None:
    since = policies.confidential_since(principal, ev.team)
    if since is not None and created_at < since:
        raise Forbidden(
            "This record was written before you joined the team; it opens to you when the "
            "members who were there before you agree"
        )


async def get_observation(
    session: AsyncSession, principal: Principal, ev: EventAccess
) -> ObservationRecord:
    record = (
        await session.execute(
            select(ObservationRecord).where(ObservationRecord.event_id == ev.event.id)
        )
    ).scalar_one_or_none()
    if record is None:
        raise NotFound("No observation record for this event yet")
    _check_reach(principal, ev, record.created_at)
    return record


async def create_observation(
    session: AsyncSession, principal: Principal, ev: EventAccess, data: ObservationRecordWrite
) -> ObservationRecord:
    _require_kind(ev.event, frozenset({EventKind.observation}), "observation record")
    assert principal.user is not None
    if ev.event.observer_id != principal.user.id:
        raise Forbidden("Only the observer writes the observation record")
    exists = await session.execute(
        select(ObservationRecord.id).where(ObservationRecord.event_id == ev.event.id)
    )
    if exists.first() is not None:
        raise Conflict("This observation already has a record; edit it instead")
    record = ObservationRecord(
        event_id=ev.event.id,
        team_id=ev.event.team_id,
        author_id=principal.user.id,
        **data.model_dump(),
    )
    session.add(record)
    await session.flush()
    return record


async def update_observation(
    session: AsyncSession,
    principal: Principal,
    record: ObservationRecord,
    data: ObservationRecordUpdate,
) -> ObservationRecord:
    if principal.user is None or record.author_id != principal.user.id:
        raise Forbidden("Only its author edits an observation record")
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(record, key, value if value is not None or key == "evidence" else [])
    record.version += 1
    record.updated_at = utcnow()
    session.add(record)
    await session.flush()
    return record


async def get_conference(
    session: AsyncSession, principal: Principal, ev: EventAccess
) -> ConferenceRecord:
    record = (
        await session.execute(
            select(ConferenceRecord).where(ConferenceRecord.event_id == ev.event.id)
        )
    ).scalar_one_or_none()
    if record is None:
        raise NotFound("No conference record for this event yet")
    _check_reach(principal, ev, record.created_at)
    return record


async def put_conference(
    session: AsyncSession, principal: Principal, ev: EventAccess, data: ConferenceRecordWrite
) -> tuple[ConferenceRecord, bool]:
    """Create or replace the conference record (any member). Returns (record, created)."""
    _require_kind(ev.event, CONFERENCE_KINDS, "conference record")
    assert principal.user is not None
    record = (
        await session.execute(
            select(ConferenceRecord).where(ConferenceRecord.event_id == ev.event.id)
        )
    ).scalar_one_or_none()
    created = record is None
    if record is not None:
        _check_reach(principal, ev, record.created_at)  # never overwrite what you cannot read
    if record is None:
        record = ConferenceRecord(
            event_id=ev.event.id, team_id=ev.event.team_id, author_id=principal.user.id
        )
    else:
        record.version += 1
        record.updated_at = utcnow()
    for key, value in data.model_dump().items():
        setattr(record, key, value)
    session.add(record)
    await session.flush()
    return record, created


def team_observations_statement(principal: Principal, access: TeamAccess) -> Select[Any]:
    """The observation records of a team the caller reads confidential records of."""
    stmt = (
        select(*ObservationRecord.__table__.columns)
        .join(Event, Event.id == ObservationRecord.event_id)
        .where(ObservationRecord.team_id == access.team.id, Event.deleted_at.is_(None))
        .order_by(Event.starts_at, ObservationRecord.id)
    )
    since = policies.confidential_since(principal, access)
    return stmt if since is None else stmt.where(ObservationRecord.created_at >= since)

"""Observation and conference records (who may read and write them: records/policies.py, through
records/deps.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden
from app.events.deps import EventAccess
from app.events.models import Event, EventKind
from app.records import policies
from app.records.deps import ConferenceAccess
from app.records.models import ConferenceRecord, ObservationRecord
from app.records.schemas import (
    ConferenceRecordWrite,
    ObservationRecordUpdate,
    ObservationRecordWrite,
)
from app.teams import policies as team_policies
from app.teams.policies import TeamAccess

CONFERENCE_KINDS = frozenset({EventKind.pre_conference, EventKind.post_conference})


def _require_kind(event: Event, kinds: frozenset[EventKind], what: str) -> None:
    if event.kind not in kinds:
        raise Conflict(f"A {what} belongs to a {' or '.join(sorted(k.value for k in kinds))} event")


async def create_observation(
    session: AsyncSession, principal: Principal, ev: EventAccess, data: ObservationRecordWrite
) -> ObservationRecord:
    _require_kind(ev.event, frozenset({EventKind.observation}), "observation record")
    if not policies.can_write_observation(principal, ev.event):
        raise Forbidden("Only the observer writes the observation record")
    exists = await session.execute(
        select(ObservationRecord.id).where(ObservationRecord.event_id == ev.event.id)
    )
    if exists.first() is not None:
        raise Conflict("This observation already has a record; edit it instead")
    record = ObservationRecord(
        event_id=ev.event.id,
        team_id=ev.event.team_id,
        author_id=principal.staff.id,
        **data.model_dump(),
    )
    session.add(record)
    await session.flush()
    return record


async def update_observation(
    session: AsyncSession, record: ObservationRecord, data: ObservationRecordUpdate
) -> ObservationRecord:
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(record, key, value if value is not None or key == "evidence" else [])
    record.version += 1
    record.updated_at = utcnow()
    session.add(record)
    await session.flush()
    return record


async def put_conference(
    session: AsyncSession,
    principal: Principal,
    found: ConferenceAccess,
    data: ConferenceRecordWrite,
) -> tuple[ConferenceRecord, bool]:
    """Create or replace the conference record (any member). Returns (record, created)."""
    ev = found.event
    _require_kind(ev.event, CONFERENCE_KINDS, "conference record")
    record = found.record
    created = record is None
    if record is None:
        record = ConferenceRecord(
            event_id=ev.event.id, team_id=ev.event.team_id, author_id=principal.staff.id
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
    since = team_policies.confidential_since(principal, access)
    return stmt if since is None else stmt.where(ObservationRecord.created_at >= since)

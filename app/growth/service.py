"""The growth record of a year-end meeting: one per meeting, written once it has started."""

from __future__ import annotations

import functools
import uuid

from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal, caller_values
from app.core import rows
from app.core.access import public_columns
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden
from app.core.etag import require_current
from app.core.reads import Bound
from app.core.sql import AnySelect, json_object
from app.events import policies as event_policies
from app.events import service as event_service
from app.events.deps import EventAccess
from app.events.models import Event, EventKind, EventStatus
from app.growth import policies
from app.growth.models import GrowthRecord
from app.growth.schemas import GrowthRecordPublic, GrowthRecordWrite
from app.school_years import service as school_years
from app.teams import policies as team_policies


class GrowthOfEvent(BaseModel):
    """An event the caller sees, with its growth record if written."""

    record: GrowthRecordPublic | None


def of_event_statement(principal: Principal, event_id: uuid.UUID) -> Bound:
    """The event's growth record if the caller sees the event (no row: 404)."""
    stmt = _of_event(team_policies.team_reach(principal), principal.is_admin)
    return Bound(stmt, {**caller_values(principal), "event_id": event_id})


@functools.cache
def _of_event(reach: team_policies.TeamReach, deleted_too: bool) -> AnySelect:
    fields = {c.key: c for c in public_columns(GrowthRecord, GrowthRecordPublic)}
    record = select(json_object(**fields)).where(col(GrowthRecord.event_id) == Event.id)
    return select(record.scalar_subquery().label("record")).where(
        col(Event.id) == bindparam("event_id"),
        event_policies.events_within(reach, deleted_too, one=True),
    )


async def put(
    session: AsyncSession,
    principal: Principal,
    ev: EventAccess,
    data: GrowthRecordWrite,
    if_match: str | None,
) -> tuple[GrowthRecord, bool]:
    """Write the meeting's growth record, or replace it (`if_match`: the version read; 428/412).
    An administrator writing it confirms the meeting was held; the team's members write it
    with them but do not mark their own meeting. Returns (record, created)."""
    if not policies.can_write(principal, ev.team):
        raise Forbidden(
            "The team's members and the administrators of its members' schools write it"
        )
    event = ev.event
    if event.kind != EventKind.year_end_meeting:
        raise Conflict("A growth record belongs to a year-end meeting")
    if event.deleted_at is not None:
        raise Conflict("The year-end meeting was deleted; restore it first")
    if event.status == EventStatus.cancelled:
        raise Conflict("The year-end meeting was cancelled")
    await school_years.require_open(session, ev.team.team.school_year)
    if event.status != EventStatus.held:
        if team_policies.is_team_admin(principal, ev.team):
            await event_service.mark_held(
                session, event, principal.staff.id
            )  # 409 before it starts
            session.add(event)
        elif utcnow() < event.starts_at:
            raise Conflict("The year-end meeting has not started yet")
    found = await session.execute(
        select(GrowthRecord).where(col(GrowthRecord.event_id) == event.id).with_for_update()
    )
    record = found.scalar_one_or_none()
    created = record is None
    if record is None:
        record = GrowthRecord(
            event_id=event.id, team_id=event.team_id, created_by_id=principal.staff.id
        )
    else:
        require_current(if_match, "growth", record.version)
        rows.changed(record)
    for key, value in data.model_dump().items():
        setattr(record, key, value)
    record.updated_by_id = principal.staff.id
    session.add(record)
    await session.flush()
    return record, created

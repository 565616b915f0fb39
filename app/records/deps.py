"""An event's confidential records, for the team's members only (administrators get 403,
everyone else already got 404 for the event), loaded before the handler runs."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select
from sqlmodel import col

from app.auth.deps import StaffCaller
from app.core.deps import SessionDep
from app.core.errors import Forbidden, NotFound
from app.events.deps import EventAccess, ViewableEvent
from app.records import policies
from app.records.models import ConferenceRecord, ObservationRecord
from app.teams import policies as team_policies

EARLIER = (
    "This record was written before you joined the team; it opens to you when the members who "
    "were there before you agree"
)


async def get_member_event(ev: ViewableEvent, principal: StaffCaller) -> EventAccess:
    if not team_policies.can_read_confidential(principal, ev.team):
        raise Forbidden("Observation notes and conference records are confidential to the team")
    return ev


MemberEvent = Annotated[EventAccess, Depends(get_member_event)]


@dataclass
class ObservationAccess:
    record: ObservationRecord
    event: EventAccess


async def _observation(
    ev: EventAccess, session: SessionDep, principal: StaffCaller, *, lock: bool
) -> ObservationAccess:
    stmt = select(ObservationRecord).where(col(ObservationRecord.event_id) == ev.event.id)
    record = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if record is None:
        raise NotFound("No observation record for this event yet")
    if not policies.in_reach(principal, ev.team, record.created_at):
        raise Forbidden(EARLIER)
    return ObservationAccess(record, ev)


async def get_observation_record(
    ev: MemberEvent, session: SessionDep, principal: StaffCaller
) -> ObservationAccess:
    return await _observation(ev, session, principal, lock=False)


ReadableObservationRecord = Annotated[ObservationAccess, Depends(get_observation_record)]


async def get_editable_observation_record(
    ev: MemberEvent, session: SessionDep, principal: StaffCaller
) -> ObservationAccess:
    found = await _observation(ev, session, principal, lock=True)
    if not policies.can_edit_observation(principal, found.record):
        raise Forbidden("Only its author edits an observation record")
    return found


EditableObservationRecord = Annotated[ObservationAccess, Depends(get_editable_observation_record)]


@dataclass
class ConferenceAccess:
    record: ConferenceRecord | None  # none written yet (PUT writes the first)
    event: EventAccess


async def get_conference_record(
    ev: MemberEvent, session: SessionDep, principal: StaffCaller
) -> ConferenceAccess:
    """The conference's record if any, within the caller's reach (403 for one written before
    they joined: not to read, and not to overwrite unseen)."""
    stmt = select(ConferenceRecord).where(col(ConferenceRecord.event_id) == ev.event.id)
    record = (await session.execute(stmt)).scalar_one_or_none()
    if record is not None and not policies.in_reach(principal, ev.team, record.created_at):
        raise Forbidden(EARLIER)
    return ConferenceAccess(record, ev)


ConferenceRecordOf = Annotated[ConferenceAccess, Depends(get_conference_record)]

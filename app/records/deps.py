"""An event's confidential records, for the team's members only (administrators get 403,
everyone else already got 404 for the event), loaded before the handler runs."""

import uuid
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col

from app.auth.deps import StaffCaller
from app.auth.principal import Principal
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import Forbidden, NotFound
from app.core.reads import Within
from app.events.deps import MISSING as EVENT_MISSING
from app.events.deps import EventAccess, ViewableEvent
from app.learning_forms.schemas import LearningFormPublic
from app.read_log.deps import NoteRead
from app.read_log.models import ReadKind
from app.records import policies, service
from app.records.models import ConferenceRecord, ObservationRecord
from app.records.schemas import ConferenceRecordPublic, ObservationRecordPublic
from app.records.service import Confidential
from app.school_years import service as school_years
from app.teams import policies as team_policies
from app.teams.deps import MISSING as TEAM_MISSING

EARLIER = (
    "This record was written before you joined the team; it opens to you when the members who "
    "were there before you agree"
)


MEMBERS_ONLY = "Only the team's members can do this"

CONFIDENTIAL = (
    "Observation notes, conference records and learning forms are confidential to the team"
)


async def get_member_event(ev: ViewableEvent, principal: StaffCaller) -> EventAccess:
    if not team_policies.can_read_confidential(principal, ev.team):
        raise Forbidden(CONFIDENTIAL)
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


async def get_editable_observation_record(
    ev: MemberEvent, session: SessionDep, principal: StaffCaller
) -> ObservationAccess:
    found = await _observation(ev, session, principal, lock=True)
    if not policies.can_edit_observation(principal, found.record):
        raise Forbidden("Only its author edits an observation record")
    await school_years.require_open(session, ev.team.team.school_year)
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


# ---- reads: the decision and the record in one statement --------------------------------------


# The confidential records read one at a time (each has the `created_at` reach is judged by).
R = TypeVar("R", ObservationRecordPublic, ConferenceRecordPublic, LearningFormPublic)


def require_member(
    standing: Confidential[R] | Confidential[BaseModel] | None,
    unseen: str,
    refused: str = CONFIDENTIAL,
) -> None:
    """The caller's standing on a team (`Confidential`, read with what it guards): 404
    (`unseen`) for a team or event they do not see, 403 (`refused`) for one whose confidential
    records are not theirs (not a member, or the team deleted)."""
    if standing is None:
        raise NotFound(unseen)
    if not standing.reads_confidential:
        raise Forbidden(refused)


def decide(facts: Confidential[R] | None, missing: str, *, unseen: str = EVENT_MISSING) -> R:
    """A confidential record read with the caller's standing on its team (`Confidential`):
    `require_member`, then 404 (`missing`) when none is written, 403 for one written before
    they joined, else the record."""
    require_member(facts, unseen)
    assert facts is not None
    if facts.record is None:
        raise NotFound(missing)
    if not policies.written_since(facts.confidential_since, facts.record.created_at):
        raise Forbidden(EARLIER)
    return facts.record


async def get_recordable_event(
    event_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller
) -> uuid.UUID:
    """An event whose team's confidential records the caller writes (`require_member`), for a
    new record of it: its id."""
    stmt = service.event_standing_statement(caller, event_id)
    require_member(await reads.one(Confidential[BaseModel], stmt), EVENT_MISSING)
    return event_id


RecordableEvent = Annotated[uuid.UUID, Depends(get_recordable_event)]


async def get_observation_view(
    event_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller, note: NoteRead
) -> ObservationRecordPublic:
    schema = ObservationRecordPublic
    stmt = service.event_record_statement(caller, event_id, ObservationRecord, schema)
    facts = await reads.one(Confidential[ObservationRecordPublic], stmt)
    record = decide(facts, "No observation record for this event yet")
    await note(ReadKind.observation_record, record.team_id, record.id)
    return record


ObservationRecordView = Annotated[ObservationRecordPublic, Depends(get_observation_view)]


async def get_conference_view(
    event_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller, note: NoteRead
) -> ConferenceRecordPublic:
    schema = ConferenceRecordPublic
    stmt = service.event_record_statement(caller, event_id, ConferenceRecord, schema)
    facts = await reads.one(Confidential[ConferenceRecordPublic], stmt)
    record = decide(facts, "No conference record for this event yet")
    await note(ReadKind.conference_record, record.team_id, record.id)
    return record


ConferenceRecordView = Annotated[ConferenceRecordPublic, Depends(get_conference_view)]


async def _standing(
    reads: ReadsDep, caller: Principal, team_id: uuid.UUID
) -> Confidential[BaseModel]:
    """The caller's standing on a team whose records they read: 404 for a team they do not
    see, 403 for one whose records are not theirs."""
    standing = await reads.one(
        Confidential[BaseModel], service.team_standing_statement(caller, team_id)
    )
    require_member(standing, TEAM_MISSING, MEMBERS_ONLY)
    assert standing is not None
    return standing


async def within_team_records(team_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller) -> Within:
    """A team whose confidential content the caller reads, for a list of it (its observation
    records, learning forms, read log): the check (`service.team_records_check`) goes with the
    page (`Reads.page(within=)`), and an empty page is explained by the caller's standing
    (404 for a team they do not see, 403 for one whose records are not theirs)."""
    return Within(
        service.team_records_check(caller, team_id),
        TEAM_MISSING,
        explain=lambda: _standing(reads, caller, team_id),
    )


WithinTeamRecords = Annotated[Within, Depends(within_team_records)]


async def get_own_records_reader(caller: StaffCaller) -> Principal:
    if not policies.may_read_own_records(caller):
        raise Forbidden("An administrator reads no observation notes, their own included")
    return caller


OwnRecordsReader = Annotated[Principal, Depends(get_own_records_reader)]

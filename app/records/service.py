"""Observation and conference records (who may read and write them: records/policies.py, through
records/deps.py)."""

from __future__ import annotations

import functools
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import bindparam, case, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal, caller_values
from app.core import rows
from app.core.access import public_columns
from app.core.db import table_of, utcnow
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.core.pagination import PageQuery
from app.core.reads import Bound
from app.core.sql import AnySelect, json_object
from app.core.writes import Writes, new_row
from app.events import policies as event_policies
from app.events import service as event_service
from app.events.models import Event, EventKind, EventStatus
from app.plans import service as plans
from app.records import policies
from app.records.models import ConferenceRecord, ObservationRecord
from app.records.schemas import (
    POST_ONLY,
    PRE_ONLY,
    ComparedObservation,
    ConferenceRecordWrite,
    ObservationComparison,
    ObservationRecordPublic,
    ObservationRecordUpdate,
    ObservationRecordWrite,
    RecordStanding,
    StrategyComparison,
)
from app.school_years import service as school_years
from app.teams import policies as team_policies
from app.teams.models import Team

if TYPE_CHECKING:
    from app.records.deps import ConferenceAccess

CONFERENCE_KINDS = frozenset({EventKind.pre_conference, EventKind.post_conference})


def _require_kind(kind: EventKind, kinds: frozenset[EventKind], what: str) -> None:
    if kind not in kinds:
        raise Conflict(f"A {what} belongs to a {' or '.join(sorted(k.value for k in kinds))} event")


async def _held(
    session: AsyncSession,
    event: Event,
    principal: Principal,
    plan: tuple[bool, str | None] | None = None,
) -> None:
    """A record of an event says it took place: the event is held from now (409 if it was
    cancelled or has not started)."""
    was = event.status
    await event_service.mark_held(session, event, principal.staff.id, plan=plan)
    if event.status != was:
        session.add(event)


class ObservationFacts(BaseModel):
    """What writing an observation record checks, read in its transaction: the event (to hold
    it: `events.service.holds`), the school year still open, no record yet, and the plan the
    program's rules may wait for."""

    team_id: uuid.UUID
    kind: EventKind
    status: EventStatus
    starts_at: datetime
    deleted_at: datetime | None
    observer_id: uuid.UUID | None
    school_year: str
    ends_on: date | None
    written: bool
    need_plan: bool
    plan_status: str | None


# The event is locked until the record is written (PostgreSQL; SQLite's writer holds the
# database), so no one cancels it, and no second record is checked for, in between.
_OBSERVATION_FACTS = (
    select(
        col(Event.team_id),
        col(Event.kind),
        col(Event.status),
        col(Event.starts_at),
        col(Event.deleted_at),
        col(Event.observer_id),
        col(Team.school_year),
        school_years.ends_on_of(Team.school_year),
        exists().where(col(ObservationRecord.event_id) == Event.id).label("written"),
        *event_service.plan_rule_columns(Event.team_id),
    )
    .join(Team, col(Team.id) == Event.team_id)
    .where(col(Event.id) == bindparam("event_id"))
    .with_for_update(of=table_of(Event))
)


async def create_observation(
    writes: Writes, principal: Principal, event_id: uuid.UUID, data: ObservationRecordWrite
) -> ObservationRecordPublic:
    """The observer's record of an event of a team whose records the caller writes
    (`deps.RecordableEvent` decided): 409 for an event that is not an observation, 403 for
    anyone but its observer, 409 once the school year ended or a record is written; writing it
    holds the event (`events.service.holds`)."""
    async with writes.transaction() as tx:
        found = await tx.one(ObservationFacts, _OBSERVATION_FACTS, {"event_id": event_id})
        if found is None:  # removed since the caller's access was decided
            raise NotFound("No such event")
        _require_kind(found.kind, frozenset({EventKind.observation}), "observation record")
        if not policies.can_write_observation(principal, found.observer_id):
            raise Forbidden("Only the observer writes the observation record")
        if found.ends_on is not None:
            school_years.check_open(found.school_year, found.ends_on)
        if found.written:
            raise Conflict("This observation already has a record; edit it instead")
        now = utcnow()
        if event_service.holds(found, now, (found.need_plan, found.plan_status)):
            await tx.later(event_service.hold_change(event_id, principal.staff.id, now))
        record = new_row(
            ObservationRecord,
            event_id=event_id,
            team_id=found.team_id,
            author_id=principal.staff.id,
            **data.model_dump(),
        )
        await tx.insert(ObservationRecord, record)
    return ObservationRecordPublic.model_validate(record)


async def update_observation(
    session: AsyncSession, record: ObservationRecord, data: ObservationRecordUpdate
) -> ObservationRecord:
    for key, value in rows.patch(record, data).items():
        setattr(record, key, value)
    rows.changed(record)
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
    _require_kind(ev.event.kind, CONFERENCE_KINDS, "conference record")
    answers = data.model_dump(exclude=set(PRE_ONLY))
    _answers_fit(ev.event.kind, data)
    await school_years.require_open(session, ev.team.team.school_year)
    record = found.record
    created = record is None
    await _held(session, ev.event, principal)
    if data.learning_target_agreed is not None:
        await plans.set_learning_target(session, ev.event.team_id, data.learning_target_agreed)
    if record is None:
        record = ConferenceRecord(
            event_id=ev.event.id, team_id=ev.event.team_id, author_id=principal.staff.id
        )
    else:
        rows.changed(record)
    me, written_by = str(principal.staff.id), dict(record.written_by)
    for key, value in answers.items():
        if value is None:
            written_by.pop(key, None)
        elif value != getattr(record, key):
            written_by[key] = me
        setattr(record, key, value)
    record.written_by = written_by
    record.updated_by_id = principal.staff.id
    session.add(record)
    await session.flush()
    return record, created


def _answers_fit(kind: EventKind, data: ConferenceRecordWrite) -> None:
    """The target is agreed at the pre-conference; what was modelled and posed, and the next
    steps, come after the observations (422 naming the field otherwise)."""
    wrong = POST_ONLY if kind == EventKind.pre_conference else PRE_ONLY
    for name in sorted(wrong):
        if getattr(data, name) is not None:
            other = "post" if kind == EventKind.pre_conference else "pre"
            raise Unprocessable.for_field(
                name, f"{name} belongs to a {other}-conference record", "wrong_conference"
            )


R = TypeVar("R", bound=BaseModel)


class Confidential(BaseModel, Generic[R]):
    """A confidential record (or none) with what decides whether the caller reads it, read
    together: `reads_confidential` and `confidential_since` (teams.policies)."""

    reads_confidential: bool
    confidential_since: datetime | None
    record: R | None = None


def _as_object(model: Any, schema: type[BaseModel]) -> Any:
    """The joined record as one object column (null when there is none)."""
    fields = {c.key: c for c in public_columns(model, schema)}
    return case((model.id.is_(None), None), else_=json_object(**fields)).label("record")


def event_standing_statement(principal: Principal, event_id: uuid.UUID) -> Bound:
    """An event the caller sees (no row: 404) and the caller's standing on its team
    (`Confidential` without a record)."""
    stmt = _event_standing(
        team_policies.team_reach(principal),
        principal.is_admin,
        team_policies.may_be_member(principal),
    )
    return Bound(stmt, {**caller_values(principal), "event_id": event_id})


@functools.cache
def _event_standing(reach: team_policies.TeamReach, deleted_too: bool, teacher: bool) -> AnySelect:
    return (
        select(*team_policies.confidential_columns_for(teacher, Team))
        .select_from(Event)
        .join(Team, col(Team.id) == Event.team_id)
        .where(
            col(Event.id) == bindparam("event_id"),
            event_policies.events_within(reach, deleted_too, one=True),
        )
    )


def event_record_statement(
    principal: Principal, event_id: uuid.UUID, model: Any, schema: type[BaseModel]
) -> Bound:
    """`event_standing_statement` with the event's record of `model`, if written, in one
    statement."""
    stmt = _event_record(
        team_policies.team_reach(principal),
        principal.is_admin,
        team_policies.may_be_member(principal),
        model,
        schema,
    )
    return Bound(stmt, {**caller_values(principal), "event_id": event_id})


@functools.cache
def _event_record(
    reach: team_policies.TeamReach,
    deleted_too: bool,
    teacher: bool,
    model: Any,
    schema: type[BaseModel],
) -> AnySelect:
    return (
        _event_standing(reach, deleted_too, teacher)
        .add_columns(_as_object(model, schema))
        .outerjoin(model, model.event_id == Event.id)
    )


def team_standing_statement(principal: Principal, team_id: uuid.UUID) -> Bound:
    """The caller's standing on a team they see (no row: 404)."""
    stmt = _team_standing(
        team_policies.team_reach(principal), team_policies.may_be_member(principal)
    )
    return Bound(stmt, {**caller_values(principal), "team_id": team_id})


@functools.cache
def _team_standing(reach: team_policies.TeamReach, teacher: bool) -> AnySelect:
    return select(*team_policies.confidential_columns_for(teacher, Team)).where(
        col(Team.id) == bindparam("team_id"),
        team_policies.teams_within(reach, include_deleted=True, one=True),
    )


def team_records_check(principal: Principal, team_id: uuid.UUID) -> Bound:
    """The team's id if the caller reads its confidential records (a team they see, live, and
    they a member: `team_standing_statement`'s `reads_confidential` as a filter), the check a
    list of the team's records is read guarded by (`Reads.page(within=)`)."""
    stmt = _records_check(
        team_policies.team_reach(principal), team_policies.may_be_member(principal)
    )
    return Bound(stmt, {**caller_values(principal), "team_id": team_id})


@functools.cache
def _records_check(reach: team_policies.TeamReach, teacher: bool) -> AnySelect:
    return select(col(Team.id)).where(
        col(Team.id) == bindparam("team_id"),
        team_policies.teams_within(reach, include_deleted=True, one=True),
        team_policies.reads_confidential_for(teacher, Team),
    )


def team_records_statement(principal: Principal, model: Any, team_id: uuid.UUID) -> Bound:
    """A team's records of `model` within the caller's reach (`teams.policies.written_in_reach`),
    oldest first. Read it after deciding the caller reads the team's records at all."""
    return Bound(_team_records(model), {**caller_values(principal), "team_id": team_id})


@functools.cache
def _team_records(model: Any) -> AnySelect:
    return (
        select(*model.__table__.columns)
        .where(
            model.team_id == bindparam("team_id"),
            team_policies.written_in_reach(model.created_at, model.team_id),
        )
        .order_by(model.created_at)
    )


def team_observations_query(
    principal: Principal, team_id: uuid.UUID
) -> tuple[PageQuery, dict[str, Any]]:
    """The observation records of a team within the caller's reach (those written since they
    read the team's records), in the order of their observations, with the values of its
    parameters. Read it within `team_records_check`: the reach says nothing of who may read
    the team's records at all."""
    return _TEAM_OBSERVATIONS, {**caller_values(principal), "team_id": team_id}


_TEAM_OBSERVATIONS = PageQuery(
    select(*table_of(ObservationRecord).columns)
    .join(Event, col(Event.id) == ObservationRecord.event_id)
    .where(
        col(ObservationRecord.team_id) == bindparam("team_id"),
        col(Event.deleted_at).is_(None),
        team_policies.written_in_reach(ObservationRecord.created_at, ObservationRecord.team_id),
    ),
    (Event.starts_at, ObservationRecord.id),
)


def own_observations_query(principal: Principal) -> tuple[PageQuery, dict[str, Any]]:
    """The observation records the caller wrote, on any team, latest first."""
    return _OWN_OBSERVATIONS, caller_values(principal)


_OWN_OBSERVATIONS = PageQuery(
    select(*table_of(ObservationRecord).columns).where(policies.own_records()),
    (col(ObservationRecord.created_at).desc(), col(ObservationRecord.id)),
)


class ObservedRow(BaseModel):
    """An observation of a team with its record, if written, and whether that record is within
    the reader's reach (`teams.policies.written_in_reach`)."""

    event_id: uuid.UUID
    starts_at: datetime
    status: EventStatus
    observer_id: uuid.UUID | None
    observed_id: uuid.UUID | None
    learning_target: str | None
    strategy: str | None
    record: ObservationRecordPublic | None
    in_reach: bool


def team_observed_statement(principal: Principal, team_id: uuid.UUID) -> Bound:
    """A team's observations (not cancelled or deleted) with their records, in time order.
    Read it within `team_records_check`: the reach says nothing of who may read the team's
    records at all."""
    return Bound(_TEAM_OBSERVED, {**caller_values(principal), "team_id": team_id})


_TEAM_OBSERVED = (
    select(
        col(Event.id).label("event_id"),
        col(Event.starts_at),
        col(Event.status),
        col(Event.observer_id),
        col(Event.observed_id),
        col(Event.learning_target),
        col(Event.strategy),
        _as_object(ObservationRecord, ObservationRecordPublic),
        team_policies.written_in_reach(ObservationRecord.created_at, Event.team_id).label(
            "in_reach"
        ),
    )
    .outerjoin(ObservationRecord, col(ObservationRecord.event_id) == Event.id)
    .where(
        col(Event.team_id) == bindparam("team_id"),
        col(Event.kind) == EventKind.observation,
        col(Event.status) != EventStatus.cancelled,
        col(Event.deleted_at).is_(None),
    )
    .order_by(col(Event.starts_at), col(Event.id))
)


def compare_by_strategy(observed: list[ObservedRow]) -> ObservationComparison:
    """The observations grouped by the strategy observed (the same words in any letter case or
    spacing), so a pair's observations of one strategy read side by side; the records within
    the reader's reach."""
    groups: dict[str, StrategyComparison] = {}
    for row in observed:
        key = " ".join((row.strategy or "").split()).casefold()
        group = groups.setdefault(key, StrategyComparison(strategy=row.strategy, observations=[]))
        record, standing = row.record, RecordStanding.written
        if record is None:
            standing = RecordStanding.none
        elif not row.in_reach:
            record, standing = None, RecordStanding.before_you_joined
        group.observations.append(
            ComparedObservation(
                **row.model_dump(exclude={"strategy", "record", "in_reach"}),
                record_status=standing,
                record=record,
            )
        )
    return ObservationComparison(strategies=list(groups.values()))

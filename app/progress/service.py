"""A team's progress through the cycle. `build_progress` is pure; what it needs is one row of
facts per team (`facts_columns`), read with the team itself: for one team or a report's page."""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal, caller_values
from app.core.db import table_of, utcnow
from app.core.reads import Bound
from app.core.sql import AnySelect, nested
from app.events.models import Event, EventKind, EventStatus
from app.plans.models import ActionPlan, PlanStatus
from app.program_rules.service import rule_column
from app.progress.schemas import (
    Deadline,
    DeadlineCode,
    DeadlineState,
    MeetingState,
    MissingStep,
    StepCode,
    TeacherObservations,
    TeamProgress,
)
from app.records.models import ObservationRecord
from app.reflections import policies as reflection_policies
from app.reflections.models import Reflection
from app.school_years import service as school_years
from app.teams import policies as team_policies
from app.teams.models import Team, TeamMember
from app.teams.schemas import MemberRef
from app.users.models import User


class EventFact(BaseModel):
    """A team's events (not cancelled) of one kind between one observer and one observed
    teacher (none for conferences and meetings): how many, how many were held (confirmed by a
    participant or recorded), and how many ended by `AS_OF` without being confirmed."""

    kind: EventKind
    observer_id: uuid.UUID | None
    observed_id: uuid.UUID | None
    scheduled: int
    held: int
    unconfirmed: int


# The moment progress is computed for, a bind parameter of the facts' statements.
AS_OF = "as_of"


class YearDates(BaseModel):
    """The dates of a school year that progress holds a team to."""

    starts_on: date
    ends_on: date
    plan_due_on: date | None
    observations_until: date | None
    year_end_meetings_until: date | None


class TeamFacts(BaseModel):
    """Everything progress is computed from (no note content), read per team in one row."""

    team_id: uuid.UUID
    plan_status: PlanStatus
    events: list[EventFact]
    members: list[MemberRef]
    records: int
    reflections: int
    observations_required: int  # the program's rule, per teacher each way
    school_year_dates: YearDates | None  # None: the district has not recorded the year


def facts_columns(kind: reflection_policies.Reader, team: Any) -> list[Any]:
    """TeamFacts' columns beside `team_id`, looked up per team (`team`: the team table or a
    page of it). Reflections are counted as the caller (a `kind` of reader, named by bind
    parameters: `caller_values`) may read them: a private post or a team post counted for
    someone who may not read it would tell them it exists. Events are counted per kind and
    pair of teachers, so a team's facts stay a few rows however many events it holds; run with
    `as_of_values()`."""
    plan = select(col(ActionPlan.status)).where(ActionPlan.team_id == team.id).scalar_subquery()
    pair = (col(Event.kind), col(Event.observer_id), col(Event.observed_id))
    ended = col(Event.ends_at) <= bindparam(AS_OF, type_=table_of(Event).c.ends_at.type)
    held = col(Event.status) == EventStatus.held
    unconfirmed = and_(col(Event.status) == EventStatus.scheduled, ended)
    events = (
        select(
            *pair,
            func.count().label("scheduled"),
            func.count(case((held, 1))).label("held"),
            func.count(case((unconfirmed, 1))).label("unconfirmed"),
        )
        .where(
            Event.team_id == team.id,
            col(Event.status) != EventStatus.cancelled,
            col(Event.deleted_at).is_(None),
        )
        .group_by(*pair)
        .order_by(*pair)
    )
    members = (
        select(col(User.id), col(User.given_name), col(User.family_name))
        .join(TeamMember, col(TeamMember.user_id) == User.id)
        .where(TeamMember.team_id == team.id)
        .order_by(User.family_name, User.given_name, col(User.id))
    )
    records = select(func.count(col(ObservationRecord.id))).where(
        ObservationRecord.team_id == team.id
    )
    reflections = select(func.count(col(Reflection.id))).where(
        Reflection.team_id == team.id, reflection_policies.readable_by(kind)
    )
    return [
        func.coalesce(plan, PlanStatus.draft.value).label("plan_status"),
        nested(events).label("events"),
        nested(members).label("members"),
        records.scalar_subquery().label("records"),
        reflections.scalar_subquery().label("reflections"),
        rule_column("observations_per_teacher").label("observations_required"),
        school_years.dates_column(team.school_year),
    ]


def as_of_values(now: datetime) -> dict[str, Any]:
    """The values `facts_columns` needs beside the caller's: the moment progress is for."""
    return {AS_OF: now}


def progress_statement(principal: Principal, team_id: uuid.UUID, now: datetime) -> Bound:
    """One team's facts as of `now`, if the caller may see the team (its plan, calendar and
    progress)."""
    stmt = _progress(team_policies.team_reach(principal), reflection_policies.reader(principal))
    return Bound(stmt, {**caller_values(principal), **as_of_values(now), "team_id": team_id})


@functools.cache
def _progress(reach: team_policies.TeamReach, kind: reflection_policies.Reader) -> AnySelect:
    return select(col(Team.id).label("team_id"), *facts_columns(kind, Team)).where(
        col(Team.id) == bindparam("team_id"),
        team_policies.teams_within(reach, include_deleted=True, one=True),
    )


def next_day(now: datetime) -> datetime:
    """When progress built at `now` may say otherwise with no row changed, beside events
    ending: the next day in UTC (the year's deadlines turn overdue by the day)."""
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), UTC)


def _state(scheduled: int, held: int) -> MeetingState:
    if held:
        return MeetingState.held
    return MeetingState.scheduled if scheduled else MeetingState.none


def _meeting(code: StepCode, what: str, unconfirmed: int) -> MissingStep:
    message = f"{what} held"
    if unconfirmed:
        message += f" ({unconfirmed} ended without being confirmed held)"
    return MissingStep(code=code, params={"unconfirmed": unconfirmed}, message=message)


def _observations(
    code: StepCode, t: TeacherObservations, held: int, doing: str, required: int
) -> MissingStep:
    name = f"{t.teacher.given_name} {t.teacher.family_name}"
    params: dict[str, str | int] = {
        "teacher_id": str(t.teacher.id),
        "teacher": name,
        "held": held,
        "required": required,
    }
    message = f"{name} {doing} {required} times ({held} held so far)"
    return MissingStep(code=code, params=params, message=message)


def build_progress(facts: TeamFacts, as_of: datetime) -> TeamProgress:
    """Progress from a team's facts, as of the moment the facts were read for (`as_of`). An
    event counts only once held (confirmed by a participant or recorded), never because it
    ended."""
    scheduled: Counter[EventKind] = Counter()
    held: Counter[EventKind] = Counter()
    unconfirmed: Counter[EventKind] = Counter()
    observed: Counter[Any] = Counter()
    observing: Counter[Any] = Counter()
    for event in facts.events:
        scheduled[event.kind] += event.scheduled
        held[event.kind] += event.held
        unconfirmed[event.kind] += event.unconfirmed
        if event.kind == EventKind.observation:
            observed[event.observed_id] += event.held
            observing[event.observer_id] += event.held

    required = facts.observations_required
    status = PlanStatus(facts.plan_status)
    approved = status in (PlanStatus.approved, PlanStatus.completed)
    pre, post, year_end = (
        _state(scheduled[kind], held[kind])
        for kind in (
            EventKind.pre_conference,
            EventKind.post_conference,
            EventKind.year_end_meeting,
        )
    )
    per_teacher = [
        TeacherObservations(teacher=m, observed=observed[m.id], observing=observing[m.id])
        for m in facts.members
    ]
    missing: list[MissingStep] = []
    if not approved:
        missing.append(
            MissingStep(
                code=StepCode.plan_approved,
                params={"plan_status": status.value},
                message=f"action plan approved (now {status.value})",
            )
        )
    if pre != MeetingState.held:
        missing.append(
            _meeting(
                StepCode.pre_conference_held,
                "pre-conference",
                unconfirmed[EventKind.pre_conference],
            )
        )
    for t in per_teacher:
        if t.observed < required:
            missing.append(
                _observations(StepCode.teacher_observed, t, t.observed, "observed", required)
            )
        if t.observing < required:
            missing.append(
                _observations(StepCode.teacher_observing, t, t.observing, "observing", required)
            )
    if post != MeetingState.held:
        missing.append(
            _meeting(
                StepCode.post_conference_held,
                "post-conference",
                unconfirmed[EventKind.post_conference],
            )
        )
    if facts.reflections == 0:
        missing.append(
            MissingStep(code=StepCode.reflections_written, params={}, message="reflections written")
        )
    if year_end != MeetingState.held:
        missing.append(
            _meeting(
                StepCode.year_end_meeting_held,
                "year-end meeting with an administrator",
                unconfirmed[EventKind.year_end_meeting],
            )
        )
    return TeamProgress(
        team_id=facts.team_id,
        plan_status=status,
        plan_approved=approved,
        pre_conference=pre,
        observations=per_teacher,
        observations_required=required,
        observation_records=facts.records,
        post_conference=post,
        reflections=facts.reflections,
        year_end_meeting=year_end,
        complete=not missing,
        missing=missing,
        deadlines=_deadlines(facts.school_year_dates, missing, as_of.astimezone(UTC).date()),
    )


_DEADLINES = (
    (DeadlineCode.plan_due, "plan_due_on", {StepCode.plan_approved}, "action plan approved"),
    (
        DeadlineCode.observations_due,
        "observations_until",
        {StepCode.teacher_observed, StepCode.teacher_observing},
        "every observation held",
    ),
    (
        DeadlineCode.year_end_meeting_due,
        "year_end_meetings_until",
        {StepCode.year_end_meeting_held},
        "year-end meeting held",
    ),
)


def _deadlines(year: YearDates | None, missing: list[MissingStep], today: date) -> list[Deadline]:
    """Each of the year's dates: met when none of its steps is missing, else overdue once the
    day has passed."""
    if year is None:
        return []
    left = {m.code for m in missing}
    found = []
    for code, field, steps, what in _DEADLINES:
        due_on = getattr(year, field)
        if due_on is None:
            continue
        if not steps & left:
            state = DeadlineState.met
        else:
            state = DeadlineState.overdue if today > due_on else DeadlineState.upcoming
        found.append(Deadline(code=code, due_on=due_on, state=state, message=f"{what} by {due_on}"))
    return found


async def team_progress(
    session: AsyncSession, principal: Principal, team_id: uuid.UUID
) -> TeamProgress:
    """A team's progress inside a session's transaction (a document composed from it)."""
    now = utcnow()
    facts = progress_statement(principal, team_id, now)
    row = (await session.execute(facts.stmt, facts.values)).mappings().one()
    return build_progress(TeamFacts.model_validate(row), now)

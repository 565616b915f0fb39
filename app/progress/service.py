"""A team's progress through the cycle. `build_progress` is pure; what it needs is one row of
facts per team (`facts_columns`), read with the team itself: for one team or a report's page."""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal, caller_values
from app.core.db import utcnow
from app.core.reads import Bound
from app.core.sql import nested
from app.events.models import Event, EventKind, EventStatus
from app.plans.models import ActionPlan, PlanStatus
from app.progress.schemas import MeetingState, TeacherObservations, TeamProgress
from app.records.models import ObservationRecord
from app.reflections import policies as reflection_policies
from app.reflections.models import Reflection
from app.teams import policies as team_policies
from app.teams.models import Team, TeamMember
from app.teams.schemas import MemberRef
from app.users.models import User

OBSERVATIONS_PER_TEACHER = 2


class EventFact(BaseModel):
    kind: EventKind
    ends_at: datetime
    observer_id: uuid.UUID | None
    observed_id: uuid.UUID | None


class TeamFacts(BaseModel):
    """Everything progress is computed from (no note content), read per team in one row."""

    team_id: uuid.UUID
    plan_status: PlanStatus
    events: list[EventFact]
    members: list[MemberRef]
    records: int
    reflections: int


def facts_columns(kind: reflection_policies.Reader, team: Any) -> list[Any]:
    """TeamFacts' columns beside `team_id`, looked up per team (`team`: the team table or a
    page of it). Reflections are counted as the caller (a `kind` of reader, named by bind
    parameters: `caller_values`) may read them: a private post or a team post counted for
    someone who may not read it would tell them it exists."""
    plan = select(ActionPlan.status).where(ActionPlan.team_id == team.id).scalar_subquery()
    events = (
        select(Event.kind, Event.ends_at, Event.observer_id, Event.observed_id)
        .where(
            Event.team_id == team.id,
            Event.status == EventStatus.scheduled,
            Event.deleted_at.is_(None),
        )
        .order_by(Event.ends_at, Event.id)
    )
    members = (
        select(User.id, User.given_name, User.family_name)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team.id)
        .order_by(User.family_name, User.given_name, User.id)
    )
    records = select(func.count(ObservationRecord.id)).where(ObservationRecord.team_id == team.id)
    reflections = select(func.count(Reflection.id)).where(
        Reflection.team_id == team.id, reflection_policies.readable_by(kind)
    )
    return [
        func.coalesce(plan, PlanStatus.draft.value).label("plan_status"),
        nested(events).label("events"),
        nested(members).label("members"),
        records.scalar_subquery().label("records"),
        reflections.scalar_subquery().label("reflections"),
    ]


def progress_statement(principal: Principal, team_id: uuid.UUID) -> Bound:
    """One team's facts, if the caller may see the team (its plan, calendar and progress)."""
    stmt = _progress(team_policies.team_reach(principal), reflection_policies.reader(principal))
    return Bound(stmt, {**caller_values(principal), "team_id": team_id})


@functools.cache
def _progress(reach: team_policies.TeamReach, kind: reflection_policies.Reader) -> Select[Any]:
    return select(Team.id.label("team_id"), *facts_columns(kind, Team)).where(
        Team.id == bindparam("team_id"), team_policies.teams_within(reach, include_deleted=True)
    )


def _state(ends: list[datetime], now: datetime) -> MeetingState:
    if any(e <= now for e in ends):
        return MeetingState.held
    return MeetingState.scheduled if ends else MeetingState.none


def build_progress(facts: TeamFacts, now: datetime) -> TeamProgress:
    ends: dict[EventKind, list[datetime]] = {k: [] for k in EventKind}
    observed: Counter[Any] = Counter()
    observing: Counter[Any] = Counter()
    for event in facts.events:
        ends[event.kind].append(event.ends_at)
        if event.kind == EventKind.observation and event.ends_at <= now:
            observed[event.observed_id] += 1
            observing[event.observer_id] += 1

    status = PlanStatus(facts.plan_status)
    approved = status in (PlanStatus.approved, PlanStatus.completed)
    pre = _state(ends[EventKind.pre_conference], now)
    post = _state(ends[EventKind.post_conference], now)
    year_end = _state(ends[EventKind.year_end_meeting], now)
    per_teacher = [
        TeacherObservations(teacher=m, observed=observed[m.id], observing=observing[m.id])
        for m in facts.members
    ]
    missing: list[str] = []
    if not approved:
        missing.append(f"action plan approved (now {status.value})")
    if pre != MeetingState.held:
        missing.append("pre-conference held")
    for t in per_teacher:
        name = f"{t.teacher.given_name} {t.teacher.family_name}"
        if t.observed < OBSERVATIONS_PER_TEACHER:
            missing.append(
                f"{name} observed {OBSERVATIONS_PER_TEACHER} times ({t.observed} so far)"
            )
        if t.observing < OBSERVATIONS_PER_TEACHER:
            missing.append(
                f"{name} observing {OBSERVATIONS_PER_TEACHER} times ({t.observing} so far)"
            )
    if post != MeetingState.held:
        missing.append("post-conference held")
    if facts.reflections == 0:
        missing.append("reflections written")
    if year_end != MeetingState.held:
        missing.append("year-end meeting with an administrator held")
    return TeamProgress(
        team_id=facts.team_id,
        plan_status=status,
        plan_approved=approved,
        pre_conference=pre,
        observations=per_teacher,
        observations_required=OBSERVATIONS_PER_TEACHER,
        observation_records=facts.records,
        post_conference=post,
        reflections=facts.reflections,
        year_end_meeting=year_end,
        complete=not missing,
        missing=missing,
    )


async def team_progress(
    session: AsyncSession, principal: Principal, team_id: uuid.UUID
) -> TeamProgress:
    """A team's progress inside a session's transaction (a document composed from it)."""
    facts = progress_statement(principal, team_id)
    row = (await session.execute(facts.stmt, facts.values)).mappings().one()
    return build_progress(TeamFacts.model_validate(row), utcnow())

"""A team's progress through the cycle. `build_progress` is pure; the loaders fetch what it
needs in a fixed number of queries, for one team or for a whole report at once."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.db import utcnow
from app.events.models import Event, EventKind, EventStatus
from app.plans.models import ActionPlan, PlanStatus
from app.progress.schemas import MeetingState, TeacherObservations, TeamProgress
from app.records.models import ObservationRecord
from app.reflections import policies as reflection_policies
from app.reflections.models import Reflection
from app.teams.models import TeamMember
from app.teams.policies import TeamAccess
from app.users.models import User

OBSERVATIONS_PER_TEACHER = 2


@dataclass
class TeamFacts:
    """Everything progress is computed from (no note content)."""

    plan_status: str = PlanStatus.draft
    events: list[tuple[str, datetime, Any, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    records: int = 0
    reflections: int = 0


def _state(ends: list[datetime], now: datetime) -> MeetingState:
    if any(e <= now for e in ends):
        return MeetingState.held
    return MeetingState.scheduled if ends else MeetingState.none


def build_progress(team_id: uuid.UUID, facts: TeamFacts, now: datetime) -> TeamProgress:
    ends: dict[EventKind, list[datetime]] = {k: [] for k in EventKind}
    observed: Counter[Any] = Counter()
    observing: Counter[Any] = Counter()
    for kind, ends_at, observer_id, observed_id in facts.events:
        ends[EventKind(kind)].append(ends_at)
        if kind == EventKind.observation and ends_at <= now:
            observed[observed_id] += 1
            observing[observer_id] += 1

    status = PlanStatus(facts.plan_status)
    approved = status in (PlanStatus.approved, PlanStatus.completed)
    pre = _state(ends[EventKind.pre_conference], now)
    post = _state(ends[EventKind.post_conference], now)
    year_end = _state(ends[EventKind.year_end_meeting], now)
    per_teacher = [
        TeacherObservations.model_validate(
            {"teacher": m, "observed": observed[m["id"]], "observing": observing[m["id"]]}
        )
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
        team_id=team_id,
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


async def load_facts(
    session: AsyncSession, principal: Principal, team_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, TeamFacts]:
    """Facts for many teams in five queries. Reflections are counted as `principal` may read
    them: a private post or a team post counted for someone who may not read it would tell
    them it exists."""
    ids = list(team_ids)
    facts: dict[uuid.UUID, TeamFacts] = defaultdict(TeamFacts)
    if not ids:
        return facts
    for team_id, status in await session.execute(
        select(ActionPlan.team_id, ActionPlan.status).where(ActionPlan.team_id.in_(ids))
    ):
        facts[team_id].plan_status = status
    for team_id, kind, ends_at, observer_id, observed_id in await session.execute(
        select(
            Event.team_id, Event.kind, Event.ends_at, Event.observer_id, Event.observed_id
        ).where(
            Event.team_id.in_(ids),
            Event.status == EventStatus.scheduled,
            Event.deleted_at.is_(None),
        )
    ):
        facts[team_id].events.append((kind, ends_at, observer_id, observed_id))
    for team_id, count in await session.execute(
        select(ObservationRecord.team_id, func.count(ObservationRecord.id))
        .where(ObservationRecord.team_id.in_(ids))
        .group_by(ObservationRecord.team_id)
    ):
        facts[team_id].records = count
    for team_id, count in await session.execute(
        select(Reflection.team_id, func.count(Reflection.id))
        .where(Reflection.team_id.in_(ids), reflection_policies.readable(principal))
        .group_by(Reflection.team_id)
    ):
        facts[team_id].reflections = count
    for team_id, user_id, given, family in await session.execute(
        select(TeamMember.team_id, User.id, User.given_name, User.family_name)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id.in_(ids))
        .order_by(User.family_name, User.given_name, User.id)
    ):
        facts[team_id].members.append({"id": user_id, "given_name": given, "family_name": family})
    return facts


async def team_progress(
    session: AsyncSession, principal: Principal, access: TeamAccess
) -> TeamProgress:
    facts = await load_facts(session, principal, [access.team.id])
    return build_progress(access.team.id, facts[access.team.id], utcnow())

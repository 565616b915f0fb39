"""A team's progress through the cycle, computed in a fixed number of queries."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import utcnow
from app.events.models import Event, EventKind, EventStatus
from app.plans.models import ActionPlan, PlanStatus
from app.progress.schemas import MeetingState, TeacherObservations, TeamProgress
from app.records.models import ObservationRecord
from app.reflections.models import Reflection
from app.teams.policies import TeamAccess
from app.users.models import User

OBSERVATIONS_PER_TEACHER = 2


def _state(ends: list[datetime], now: datetime) -> MeetingState:
    if any(e <= now for e in ends):
        return MeetingState.held
    return MeetingState.scheduled if ends else MeetingState.none


async def team_progress(session: AsyncSession, access: TeamAccess) -> TeamProgress:
    team_id, now = access.team.id, utcnow()
    plan_status = (
        await session.execute(select(ActionPlan.status).where(ActionPlan.team_id == team_id))
    ).scalar_one()
    events = (
        await session.execute(
            select(Event.kind, Event.ends_at, Event.observer_id, Event.observed_id).where(
                Event.team_id == team_id,
                Event.status == EventStatus.scheduled,
                Event.deleted_at.is_(None),
            )
        )
    ).all()
    records = (
        await session.execute(
            select(func.count(ObservationRecord.id)).where(ObservationRecord.team_id == team_id)
        )
    ).scalar_one()
    reflections = (
        await session.execute(
            select(func.count(Reflection.id)).where(
                Reflection.team_id == team_id, Reflection.deleted_at.is_(None)
            )
        )
    ).scalar_one()
    members = (
        await session.execute(
            select(User.id, User.given_name, User.family_name)
            .where(User.id.in_(access.member_ids))
            .order_by(User.family_name, User.given_name, User.id)
        )
    ).all()

    ends: dict[EventKind, list[datetime]] = {k: [] for k in EventKind}
    observed: Counter[object] = Counter()
    observing: Counter[object] = Counter()
    for kind, ends_at, observer_id, observed_id in events:
        ends[EventKind(kind)].append(ends_at)
        if kind == EventKind.observation and ends_at <= now:
            observed[observed_id] += 1
            observing[observer_id] += 1

    status = PlanStatus(plan_status)
    approved = status in (PlanStatus.approved, PlanStatus.completed)
    pre = _state(ends[EventKind.pre_conference], now)
    post = _state(ends[EventKind.post_conference], now)
    year_end = _state(ends[EventKind.year_end_meeting], now)
    per_teacher = [
        TeacherObservations(
            teacher={"id": m.id, "given_name": m.given_name, "family_name": m.family_name},  # type: ignore[arg-type]
            observed=observed[m.id],
            observing=observing[m.id],
        )
        for m in members
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
    if reflections == 0:
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
        observation_records=records,
        post_conference=post,
        reflections=reflections,
        year_end_meeting=year_end,
        complete=not missing,
        missing=missing,
    )

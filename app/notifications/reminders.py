"""Reminders, fired by `peercoach worker` on each pass: before each event (REMINDER_LEAD_HOURS,
the day before by default), to a team whose plan is past its school year's due date and not
submitted, and to administrators about coverage still pending COVERAGE_PENDING_DAYS before its
observation. Each fires once: its key (what, and for when) is recorded in the same transaction
as its notifications, so several workers never fire one twice, and a moved event is reminded of
again for its new time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.config import Settings
from app.core.db import Database, utcnow
from app.coverage.models import CoverageRequest, CoverageStatus
from app.events.models import Event, EventParticipant, EventStatus
from app.notifications import service as notifications
from app.notifications.models import NotificationKind, ReminderSent
from app.notifications.service import Message, grouped
from app.plans.models import ActionPlan, PlanStatus
from app.school_years.models import SchoolYear
from app.teams.models import Team, TeamMember
from app.teams.service import time_zone_of

T = TypeVar("T")

# Reminder keys recorded per statement (two bound values each: well inside SQLite's limit).
KEYS_PER_STATEMENT = 500


async def _first_time(session: AsyncSession, reminders: Mapping[str, T]) -> list[T]:
    """Record these reminders' keys; those recorded now for the first time, which the caller
    fires. A pass tries every reminder that is due, fired or not, in a few statements."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now, fresh, todo = utcnow(), set[str](), sorted(reminders)
    for start in range(0, len(todo), KEYS_PER_STATEMENT):
        chunk = todo[start : start + KEYS_PER_STATEMENT]
        done = await session.execute(
            insert(ReminderSent)
            .values([{"key": key, "sent_at": now} for key in chunk])
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(col(ReminderSent.key))
        )
        fresh.update(done.scalars())
    return [found for key, found in reminders.items() if key in fresh]


async def _events(session: AsyncSession, settings: Settings, now: datetime) -> list[Message]:
    leads = sorted(set(settings.reminder_lead_hours))
    due = await session.execute(
        select(
            col(Event.id),
            col(Event.team_id),
            col(Event.kind),
            col(Event.title),
            col(Event.starts_at),
            col(Team.name),
            time_zone_of(Event.team_id).scalar_subquery().label("zone"),
        )
        .join(Team, col(Team.id) == Event.team_id)
        .where(
            col(Event.status) == EventStatus.scheduled,
            col(Event.deleted_at).is_(None),
            col(Team.deleted_at).is_(None),
            col(Event.starts_at) > now,
            col(Event.starts_at) <= now + timedelta(hours=leads[-1]),
        )
    )
    # Each lead time is its own reminder, keyed by the time the event then started at.
    reminders = {
        f"event:{row.id}:{hours}h:{row.starts_at.isoformat()}": row
        for row in due.all()
        for hours in leads
        if row.starts_at <= now + timedelta(hours=hours)
    }
    fired = await _first_time(session, reminders)
    if not fired:
        return []
    people = grouped(
        await session.execute(
            select(col(EventParticipant.event_id), col(EventParticipant.user_id)).where(
                col(EventParticipant.event_id).in_(sorted({row.id for row in fired}))
            )
        )
    )
    messages = []
    for row in fired:
        when = row.starts_at.astimezone(ZoneInfo(row.zone or "UTC"))
        label = row.title or str(row.kind).replace("_", "-").capitalize()
        messages.append(
            Message(
                people.get(row.id, []),
                NotificationKind.event_reminder,
                f"Reminder: {label} ({row.name}) on {when:%A %d %B at %H:%M}",
                f"/events/{row.id}",
                team_id=row.team_id,
            )
        )
    return messages


async def _plans(session: AsyncSession, settings: Settings, now: datetime) -> list[Message]:
    today = now.astimezone(ZoneInfo(settings.district_time_zone)).date()
    late = await session.execute(
        select(col(ActionPlan.id), col(Team.id), col(Team.name), col(SchoolYear.plan_due_on))
        .join(Team, col(Team.id) == ActionPlan.team_id)
        .join(SchoolYear, col(SchoolYear.label) == Team.school_year)
        .where(
            col(ActionPlan.status).in_([PlanStatus.draft, PlanStatus.returned]),
            col(ActionPlan.deleted_at).is_(None),
            col(Team.deleted_at).is_(None),
            col(SchoolYear.plan_due_on) < today,
        )
    )
    reminders = {
        f"plan:{plan_id}:{due.isoformat()}": (team_id, name, due)
        for plan_id, team_id, name, due in late.all()
        if due is not None  # not chosen by the query (plan_due_on < today)
    }
    fired = await _first_time(session, reminders)
    if not fired:
        return []
    members = grouped(
        await session.execute(
            select(col(TeamMember.team_id), col(TeamMember.user_id)).where(
                col(TeamMember.team_id).in_(sorted({team_id for team_id, _, _ in fired}))
            )
        )
    )
    return [
        Message(
            members.get(team_id, []),
            NotificationKind.plan_overdue,
            f"{name}: the action plan was due on {due:%d %B} and is not submitted yet",
            f"/teams/{team_id}/plan",
            team_id=team_id,
        )
        for team_id, name, due in fired
    ]


async def _coverage(session: AsyncSession, settings: Settings, now: datetime) -> list[Message]:
    horizon = now + timedelta(days=settings.coverage_pending_days)
    waiting = await session.execute(
        select(
            col(CoverageRequest.id),
            col(CoverageRequest.requester_id),
            col(CoverageRequest.team_id),
            col(Event.starts_at),
        )
        .join(Event, col(Event.id) == CoverageRequest.event_id)
        .where(
            col(CoverageRequest.status) == CoverageStatus.pending,
            col(Event.status) == EventStatus.scheduled,
            col(Event.deleted_at).is_(None),
            col(Event.starts_at) > now,
            col(Event.starts_at) <= horizon,
        )
    )
    reminders = {f"coverage:{found[0]}:{found[3].isoformat()}": found for found in waiting.all()}
    fired = await _first_time(session, reminders)
    if not fired:
        return []
    admins = await notifications.school_admins_each(session, {f[1] for f in fired})
    return [
        Message(
            admins.get(requester, []),
            NotificationKind.coverage_pending,
            f"Coverage still to arrange for an observation on {starts_at:%d %B}",
            f"/coverage-requests/{request_id}",
            team_id=team_id,
        )
        for request_id, requester, team_id, starts_at in fired
    ]


async def fire(db: Database, settings: Settings, now: datetime | None = None) -> None:
    """Fire what is due at `now` (each reminder once), in one transaction and a few
    statements however many are due."""
    now = now or utcnow()
    async with db.session() as session:
        messages = [
            *await _events(session, settings, now),
            *await _plans(session, settings, now),
            *await _coverage(session, settings, now),
        ]
        await notifications.tell_each(session, messages)

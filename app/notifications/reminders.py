"""Reminders, fired by `peercoach worker` on each pass: before each event (REMINDER_LEAD_HOURS,
the day before by default), to a team whose plan is past its school year's due date and not
submitted, and to administrators about coverage still pending COVERAGE_PENDING_DAYS before its
observation. Each fires once: its key (what, and for when) is recorded in the same transaction
as its notifications, so several workers never fire one twice, and a moved event is reminded of
again for its new time."""

from __future__ import annotations

from datetime import datetime, timedelta
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
from app.plans.models import ActionPlan, PlanStatus
from app.school_years.models import SchoolYear
from app.teams.models import Team
from app.teams.service import time_zone


async def _first_time(session: AsyncSession, key: str) -> bool:
    """Record the reminder `key`; whether this is the first time (the caller then fires it)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    done = await session.execute(
        insert(ReminderSent)
        .values(key=key[:200], sent_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(col(ReminderSent.key))
    )
    return done.first() is not None


async def _events(session: AsyncSession, settings: Settings, now: datetime) -> None:
    for hours in sorted(set(settings.reminder_lead_hours)):
        due = await session.execute(
            select(Event, col(Team.name))
            .join(Team, col(Team.id) == Event.team_id)
            .where(
                col(Event.status) == EventStatus.scheduled,
                col(Event.deleted_at).is_(None),
                col(Team.deleted_at).is_(None),
                col(Event.starts_at) > now,
                col(Event.starts_at) <= now + timedelta(hours=hours),
            )
        )
        for event, team_name in due.all():
            if not await _first_time(
                session, f"event:{event.id}:{hours}h:{event.starts_at.isoformat()}"
            ):
                continue
            people = await session.execute(
                select(col(EventParticipant.user_id)).where(
                    col(EventParticipant.event_id) == event.id
                )
            )
            zone = await time_zone(session, event.team_id)
            when = event.starts_at.astimezone(zone)
            label = event.title or str(event.kind).replace("_", "-").capitalize()
            await notifications.tell(
                session,
                list(people.scalars()),
                NotificationKind.event_reminder,
                f"Reminder: {label} ({team_name}) on {when:%A %d %B at %H:%M}",
                f"/events/{event.id}",
                team_id=event.team_id,
            )


async def _plans(session: AsyncSession, settings: Settings, now: datetime) -> None:
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
    for plan_id, team_id, team_name, due in late.all():
        if due is None:  # not chosen by the query (plan_due_on < today)
            continue
        if not await _first_time(session, f"plan:{plan_id}:{due.isoformat()}"):
            continue
        await notifications.tell(
            session,
            await notifications.team_members(session, team_id),
            NotificationKind.plan_overdue,
            f"{team_name}: the action plan was due on {due:%d %B} and is not submitted yet",
            f"/teams/{team_id}/plan",
            team_id=team_id,
        )


async def _coverage(session: AsyncSession, settings: Settings, now: datetime) -> None:
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
    for request_id, requester_id, team_id, starts_at in waiting.all():
        if not await _first_time(session, f"coverage:{request_id}:{starts_at.isoformat()}"):
            continue
        admins = await notifications.school_admins_of(session, [requester_id])
        await notifications.tell(
            session,
            admins,
            NotificationKind.coverage_pending,
            f"Coverage still to arrange for an observation on {starts_at:%d %B}",
            f"/coverage-requests/{request_id}",
            team_id=team_id,
        )


async def fire(db: Database, settings: Settings, now: datetime | None = None) -> None:
    """Fire what is due at `now` (each reminder once), in one transaction."""
    now = now or utcnow()
    async with db.session() as session:
        await _events(session, settings, now)
        await _plans(session, settings, now)
        await _coverage(session, settings, now)

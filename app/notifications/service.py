"""Telling people what they need to act on (README, "Notifications").

`tell` writes the notifications in the transaction of the change that causes them (so they
exist exactly when it does); a notification whose kind the person has emailed is marked
pending, and `peercoach worker` turns pending ones into outbox emails (`queue_emails`), so no
service needs the mail settings and no email leaves from a request."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import CALLER_ID, Principal, caller_values
from app.core.config import Settings
from app.core.db import Database, new_id, table_of, utcnow
from app.core.pagination import PageQuery
from app.core.reads import Bound
from app.mail import outbox
from app.notifications import policies
from app.notifications.models import Notification, NotificationKind, NotificationSetting
from app.notifications.schemas import KindSetting, NotificationSettings
from app.teams.models import TeamMember
from app.users.models import Role, SchoolMembership, User


async def tell(
    session: AsyncSession,
    user_ids: Iterable[uuid.UUID],
    kind: NotificationKind,
    title: str,
    link: str,
    *,
    team_id: uuid.UUID | None = None,
    actor: Principal | None = None,
) -> None:
    """Notify these people (active accounts, never the one who acted) of `kind`."""
    skip = actor.user.id if actor is not None and actor.user is not None else None
    wanted = sorted({u for u in user_ids if u != skip})
    if not wanted:
        return
    # Who is active, and which of them asked for no email of this kind: one statement.
    quiet_choice = exists().where(
        col(NotificationSetting.user_id) == User.id,
        col(NotificationSetting.kind) == kind.value,
        col(NotificationSetting.email).is_(False),
    )
    found = await session.execute(
        select(col(User.id), quiet_choice.label("quiet")).where(
            col(User.id).in_(wanted), col(User.is_active)
        )
    )
    quiet_of = {user_id: bool(quiet) for user_id, quiet in found}
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "user_id": u,
            "kind": kind.value,
            "title": title[:300],
            "link": link[:300],
            "team_id": team_id,
            "created_at": now,
            "read_at": None,
            "email_pending": not quiet_of[u],
        }
        for u in wanted
        if u in quiet_of
    ]
    if rows:
        await session.execute(insert(table_of(Notification)), rows)


async def team_members(session: AsyncSession, team_id: uuid.UUID) -> list[uuid.UUID]:
    found = await session.execute(
        select(col(TeamMember.user_id)).where(col(TeamMember.team_id) == team_id)
    )
    return list(found.scalars())


async def school_admins_of(session: AsyncSession, user_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The school administrators of these people's schools."""
    schools = select(col(SchoolMembership.school_id)).where(
        col(SchoolMembership.user_id).in_(user_ids)
    )
    found = await session.execute(
        select(col(User.id))
        .join(SchoolMembership, col(SchoolMembership.user_id) == User.id)
        .where(col(SchoolMembership.school_id).in_(schools), col(User.role) == Role.school_admin)
        .distinct()
    )
    return list(found.scalars())


# ---- reading and marking ---------------------------------------------------------------------

_PUBLIC = [c for c in table_of(Notification).columns if c.key not in ("user_id", "email_pending")]


@functools.cache
def list_query(unread_only: bool) -> PageQuery:
    stmt = select(*_PUBLIC).where(policies.own(Principal()))
    if unread_only:
        stmt = stmt.where(col(Notification.read_at).is_(None))
    return PageQuery(stmt, (col(Notification.created_at).desc(), col(Notification.id).desc()))


_UNREAD = select(func.count()).where(policies.own(Principal()), col(Notification.read_at).is_(None))


def unread_statement(principal: Principal) -> Bound:
    return Bound(_UNREAD, {CALLER_ID: caller_values(principal)[CALLER_ID]})


async def mark_read(session: AsyncSession, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = utcnow()
        session.add(notification)
        await session.flush()
    return notification


async def mark_all_read(session: AsyncSession, principal: Principal) -> int:
    done = await session.execute(
        update(Notification)
        .where(
            col(Notification.user_id) == principal.staff.id,
            col(Notification.read_at).is_(None),
        )
        .values(read_at=utcnow())
    )
    return int(done.rowcount)  # type: ignore[attr-defined]


_SETTINGS = select(col(NotificationSetting.kind), col(NotificationSetting.email)).where(
    col(NotificationSetting.user_id) == bindparam("user_id")
)


def settings_statement(user_id: uuid.UUID) -> Bound:
    """A person's choices (kinds without one are emailed): rows of `KindSetting`."""
    return Bound(_SETTINGS, {"user_id": user_id})


def all_kinds(chosen: list[KindSetting]) -> NotificationSettings:
    by_kind = {c.kind: c.email for c in chosen if c.kind in set(NotificationKind)}
    return NotificationSettings(
        settings=[KindSetting(kind=k, email=by_kind.get(k, True)) for k in NotificationKind]
    )


async def settings_of(session: AsyncSession, user_id: uuid.UUID) -> NotificationSettings:
    bound = settings_statement(user_id)
    found = await session.execute(bound.stmt, bound.values)
    return all_kinds([KindSetting(kind=k, email=e) for k, e in found.all()])


async def set_email(
    session: AsyncSession, user_id: uuid.UUID, choices: dict[NotificationKind, bool]
) -> NotificationSettings:
    for kind, email in choices.items():
        row = await session.get(NotificationSetting, (user_id, kind.value))
        if row is None:
            session.add(NotificationSetting(user_id=user_id, kind=kind.value, email=email))
        else:
            row.email = email
            session.add(row)
    await session.flush()
    return await settings_of(session, user_id)


# ---- emailing (the worker) -------------------------------------------------------------------


async def queue_emails(db: Database, settings: Settings, *, limit: int = 200) -> int:
    """Turn pending notifications into outbox emails, in one transaction (so each is queued
    exactly once, whichever worker takes it); how many were queued."""
    async with db.session() as session:
        stmt: Any = (
            select(Notification, User)
            .join(User, col(User.id) == Notification.user_id)
            .where(col(Notification.email_pending).is_(True))
            .order_by(col(Notification.created_at))
            .limit(limit)
        )
        if db.backend != "sqlite":
            stmt = stmt.with_for_update(of=Notification, skip_locked=True)
        batch = (await session.execute(stmt)).all()
        base = settings.frontend_url.rstrip("/")
        for note, person in batch:
            note.email_pending = False
            session.add(note)
            if not person.is_active:
                continue
            outbox.enqueue(
                session,
                settings,
                f"notification_{note.kind}",
                person.email,
                note.title,
                f"Hello {person.given_name},\n\n{note.title}.\n\n{base}{note.link}\n\n"
                f"(Choose what is emailed to you in your notification settings.)\n",
            )
    return len(batch)

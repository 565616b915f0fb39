"""Telling people what they need to act on (README, "Notifications").

`tell` writes the notifications in the transaction of the change that causes them (so they
exist exactly when it does); a notification whose kind the person has emailed is marked
pending, and `peercoach worker` turns pending ones into outbox emails (`queue_emails`), so no
service needs the mail settings and no email leaves from a request."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import bindparam, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.auth.principal import CALLER_ID, Principal, caller_values
from app.core.config import Settings
from app.core.db import Database, table_of, time_ordered_id, utcnow
from app.core.pagination import PageQuery
from app.core.reads import Bound
from app.core.sql import AnySelect
from app.mail import outbox
from app.notifications import policies
from app.notifications.models import Notification, NotificationKind, NotificationSetting
from app.notifications.schemas import KindSetting, NotificationSettings
from app.teams.models import TeamMember
from app.users.models import Role, SchoolMembership, User


@dataclass(frozen=True)
class Message:
    """One notification, for each of these people."""

    user_ids: Iterable[uuid.UUID]
    kind: NotificationKind
    title: str
    link: str
    team_id: uuid.UUID | None = None


class Person(Protocol):
    """Whom a notification may be for: a user account, or its columns read with other rows."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def is_active(self) -> bool: ...


@dataclass(frozen=True)
class Recipients:
    """What `tell` reads of the people it tells, read instead by a caller beside rows of its
    own (a `quiet_column` per kind in a select of users): whom it read, and for the active
    ones, which of `kinds` each chose no email of."""

    kinds: frozenset[NotificationKind]
    read: frozenset[uuid.UUID]
    quiet: Mapping[uuid.UUID, frozenset[NotificationKind]]

    @classmethod
    def of(cls, kind: NotificationKind, rows: Iterable[tuple[Person, bool]]) -> Recipients:
        """From rows of (a user, their `quiet_column(kind)`)."""
        found = list(rows)
        quiet = {u.id: frozenset({kind} if off else ()) for u, off in found if u.is_active}
        return cls(frozenset({kind}), frozenset(user.id for user, _ in found), quiet)


async def tell(
    session: AsyncSession,
    user_ids: Iterable[uuid.UUID],
    kind: NotificationKind,
    title: str,
    link: str,
    *,
    team_id: uuid.UUID | None = None,
    actor: Principal | None = None,
    known: Recipients | None = None,
) -> None:
    """Notify these people (active accounts, never the one who acted) of `kind`."""
    message = Message(user_ids, kind, title, link, team_id)
    await tell_each(session, [message], actor=actor, known=known)


async def tell_each(
    session: AsyncSession,
    messages: Sequence[Message],
    *,
    actor: Principal | None = None,
    known: Recipients | None = None,
) -> None:
    """`tell` for several messages at once (a worker's pass of reminders): one statement reads
    who is active and who chose no email of each kind (none when the caller `known` it), one
    writes every notification."""
    wanted = _wanted(messages, actor)
    everyone = sorted({u for _, people in wanted for u in people})
    if not everyone:
        return
    if known is None:
        kinds = tuple(sorted({m.kind for m, people in wanted if people}))
        found = await session.execute(_recipients(kinds), {"people": everyone})
        quiet = {
            row[0]: frozenset(kind for kind, off in zip(kinds, row[1:], strict=True) if off)
            for row in found
        }
        known = Recipients(frozenset(kinds), frozenset(everyone), quiet)
    rows = _rows(wanted, known)
    if rows:
        await session.execute(insert(table_of(Notification)), rows)


def rows_for(
    messages: Sequence[Message], *, actor: Principal | None, known: Recipients
) -> list[dict[str, Any]]:
    """The notifications `tell_each` writes, as rows (a write transaction inserts them), for
    recipients the caller read (`known`)."""
    return _rows(_wanted(messages, actor), known)


def _wanted(
    messages: Sequence[Message], actor: Principal | None
) -> list[tuple[Message, list[uuid.UUID]]]:
    """Each message with its people, never the one who acted."""
    skip = actor.user.id if actor is not None and actor.user is not None else None
    return [(m, sorted({u for u in m.user_ids if u != skip})) for m in messages]


def _rows(wanted: list[tuple[Message, list[uuid.UUID]]], known: Recipients) -> list[dict[str, Any]]:
    """A notification for each active person of each message; emailed unless they chose not
    to be of its kind."""
    kinds = {m.kind for m, people in wanted if people}
    everyone = {u for _, people in wanted for u in people}
    if not (kinds <= known.kinds and known.read.issuperset(everyone)):
        raise ValueError("the recipients known do not cover these messages")
    now = utcnow()
    return [
        {
            "id": time_ordered_id(),
            "user_id": u,
            "kind": m.kind.value,
            "title": m.title[:300],
            "link": m.link[:300],
            "team_id": m.team_id,
            "created_at": now,
            "read_at": None,
            "email_pending": m.kind not in known.quiet[u],
        }
        for m, people in wanted
        for u in people
        if u in known.quiet
    ]


@functools.cache
def _recipients(kinds: tuple[NotificationKind, ...]) -> AnySelect:
    """Which of `people` are active, and whether each chose no email of each of these kinds
    (built once per set of kinds)."""
    return select(col(User.id), *(quiet_column(kind) for kind in kinds)).where(
        col(User.id).in_(bindparam("people", expanding=True)), col(User.is_active)
    )


def quiet_column(kind: NotificationKind, person: Any = User) -> Any:
    """Whether the person chose no email of this kind: a column of a select of users (the
    recipients', or a caller's that hands `Recipients` to `tell`); `person`: an alias of
    `User` the select reads them as."""
    return (
        exists()
        .where(
            col(NotificationSetting.user_id) == person.id,
            col(NotificationSetting.kind) == kind.value,
            col(NotificationSetting.email).is_(False),
        )
        .label(f"quiet_{kind.value}")
    )


async def team_members(session: AsyncSession, team_id: uuid.UUID) -> list[uuid.UUID]:
    found = await session.execute(
        select(col(TeamMember.user_id)).where(col(TeamMember.team_id) == team_id)
    )
    return list(found.scalars())


async def school_admins_of(session: AsyncSession, user_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The school administrators of these people's schools."""
    each = await school_admins_each(session, user_ids)
    return sorted({admin for admins in each.values() for admin in admins})


async def school_admins_each(
    session: AsyncSession, user_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each of these people's school administrators: person -> the administrators of their
    schools."""
    person = aliased(SchoolMembership, name="person")
    found = await session.execute(
        select(col(person.user_id), col(User.id))
        .join(SchoolMembership, col(SchoolMembership.school_id) == person.school_id)
        .join(User, col(User.id) == SchoolMembership.user_id)
        .where(col(person.user_id).in_(sorted(set(user_ids))), col(User.role) == Role.school_admin)
        .distinct()
    )
    return grouped(found)


def grouped(pairs: Iterable[Any]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """(owner id, person id) rows as owner -> people."""
    people: dict[uuid.UUID, list[uuid.UUID]] = {}
    for owner, person in pairs:
        people.setdefault(owner, []).append(person)
    return people


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

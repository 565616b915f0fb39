"""Calendar invitations by email: scheduling or moving an event sends its participants an
iCalendar `METHOD:REQUEST` (Google Calendar and Outlook show it with accept and decline),
cancelling or deleting it a `METHOD:CANCEL`, through the outbox in the change's transaction.
The same UID as the feeds, so a calendar that has both keeps one event."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from email.utils import parseaddr
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.calendar_feeds import ics
from app.core.config import Settings
from app.core.reads import Bound
from app.core.writes import Transaction
from app.events.models import Event, EventKind, EventParticipant, EventStatus
from app.events.schemas import EventPublic
from app.mail import outbox
from app.mail.models import OutboxMessage
from app.notifications import service as notifications
from app.notifications.models import NotificationKind
from app.teams.models import Team
from app.teams.service import time_zone
from app.users.models import User

Method = Literal["REQUEST", "CANCEL"]


async def attendees(session: AsyncSession, event_id: uuid.UUID) -> list[User]:
    """The event's participants, in name order (as events list them)."""
    return list((await session.execute(_ATTENDEES, {"event_id": event_id})).scalars())


async def attendees_told(
    session: AsyncSession, event_id: uuid.UUID, kind: NotificationKind
) -> tuple[list[User], notifications.Recipients]:
    """`attendees`, read with what telling them of `kind` needs (one statement, not two)."""
    found = await session.execute(_attendees_told(kind), {"event_id": event_id})
    rows = [(user, bool(quiet)) for user, quiet in found]
    return [user for user, _ in rows], notifications.Recipients.of(kind, rows)


_ATTENDEES = (
    select(User)
    .join(EventParticipant, col(EventParticipant.user_id) == User.id)
    .where(col(EventParticipant.event_id) == bindparam("event_id"))
    .order_by(col(User.family_name), col(User.given_name), col(User.id))
)


@functools.cache
def _attendees_told(kind: NotificationKind) -> Any:
    return _ATTENDEES.add_columns(notifications.quiet_column(kind))


class Participant(BaseModel):
    """A participant as an invitation, a notification and the event's answer read them."""

    id: uuid.UUID
    given_name: str
    family_name: str
    email: str
    is_active: bool
    quiet: bool  # chose no email of the kind read with them (`people_told`)


async def people_told(
    tx: Transaction, people: Iterable[uuid.UUID], kind: NotificationKind
) -> tuple[list[Participant], notifications.Recipients]:
    """`attendees_told` for people not yet written as the event's participants (a new event),
    in a write transaction: one statement."""
    values = {"people": sorted(people, key=str)}
    found = [Participant.model_validate(r) for r in await tx.execute(_people_told(kind), values)]
    return told(found, kind)


def told(
    found: Sequence[Participant], kind: NotificationKind
) -> tuple[list[Participant], notifications.Recipients]:
    """`people_told`'s answer from participants read elsewhere (in name order, each with
    whether they chose no email of `kind`)."""
    return list(found), notifications.Recipients.of(kind, ((p, p.quiet) for p in found))


@functools.cache
def _people_told(kind: NotificationKind) -> Bound:
    stmt = (
        select(
            col(User.id),
            col(User.given_name),
            col(User.family_name),
            col(User.email),
            col(User.is_active),
            notifications.quiet_column(kind).label("quiet"),
        )
        .where(col(User.id).in_(bindparam("people", expanding=True)))
        .order_by(col(User.family_name), col(User.given_name), col(User.id))
    )
    return Bound(stmt, {})


def _when(event: ics.CalendarEvent) -> str:
    zone = ZoneInfo(event.time_zone or "UTC")
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    return f"{start:%A %d %B %Y, %H:%M}-{end:%H:%M} ({zone.key})"


async def send(
    session: AsyncSession,
    settings: Settings,
    event: Event,
    method: Method,
    *,
    only: set[uuid.UUID] | None = None,
    moved: bool = False,
    people: list[User] | None = None,
    team_name: str | None = None,
    zone: ZoneInfo | None = None,
) -> None:
    """Email the event's participants (or those of `only`, e.g. people taken off it) the
    invitation or the cancellation. Deactivated accounts get nothing. `people` (its
    `attendees`), `team_name` and the team's `zone` when the caller has them already."""
    if people is None:
        people = await attendees(session, event.id)
    if team_name is None:
        team_name = await session.scalar(
            select(col(Team.name)).where(col(Team.id) == event.team_id)
        )
    if zone is None:
        zone = await time_zone(session, event.team_id)
    removed = only is not None and not (only <= {p.id for p in people})
    if removed:  # people no longer on the event: their cancellation names them
        extra = await session.execute(select(User).where(col(User.id).in_(only or set())))
        people = [*people, *(u for u in extra.scalars() if u.id not in {p.id for p in people})]
    for row in messages(
        settings, event, method, people, team_name=team_name or "", zone=zone, only=only,
        moved=moved,
    ):  # fmt: skip
        session.add(OutboxMessage(**row))


class CalendarSpec(BaseModel):
    """What an invitation's calendar part is written from (`render`): queued with the message,
    sealed, and written by the mail worker when it sends it. Writing it costs `icalendar` about
    half a millisecond an event, a third of scheduling one; nothing here changes after the
    request, so the worker writes what the request would have."""

    name: str
    method: Method
    organizer: str
    link: str
    event: ics.CalendarEvent


def render(spec: str) -> str:
    """The calendar part of a queued invitation (its `calendar_spec`); raises ValueError when
    it is not one (pydantic's ValidationError is one), LookupError for an unknown time zone."""
    found = CalendarSpec.model_validate_json(spec)
    link = found.link
    body = ics.calendar(
        found.name, [found.event], lambda _: link, method=found.method, organizer=found.organizer
    )
    return body.decode()


@functools.lru_cache(maxsize=8)
def _organizer(sender: str) -> str:
    """The address of the district's sender (SMTP_FROM), the invitations' organizer, parsed
    once per sender (`parseaddr` took about 14 us of every invitation)."""
    return parseaddr(sender)[1] or "peercoach@localhost"


def messages(
    settings: Settings,
    event: Event | EventPublic,
    method: Method,
    people: Sequence[User | Participant],
    *,
    team_name: str,
    zone: ZoneInfo,
    only: set[uuid.UUID] | None = None,
    moved: bool = False,
) -> list[dict[str, Any]]:
    """The outbox rows of `send` (one per active person, or of those in `only`), for a write
    transaction to insert: the invitation or cancellation of the event to `people`, its
    calendar part to be written by the worker (`CalendarSpec`)."""
    details = ics.CalendarEvent(
        id=event.id,
        kind=EventKind(event.kind),
        title=event.title,
        team_id=event.team_id,
        team_name=team_name,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        location=event.location,
        status=EventStatus.cancelled if method == "CANCEL" else EventStatus(event.status),
        version=event.version,
        updated_at=event.updated_at,
        time_zone=zone.key,
        attendees=tuple(
            ics.Attendee(given_name=p.given_name, family_name=p.family_name, email=p.email)
            for p in people
        ),
    )
    link = f"{settings.frontend_url.rstrip('/')}/events/{event.id}"
    spec = CalendarSpec(
        name="Peer coaching",
        method=method,
        organizer=_organizer(settings.smtp_from),
        link=link,
        event=details,
    ).model_dump_json()
    title = ics.summary(details)
    if method == "CANCEL":
        subject, opening = f"Cancelled: {title}", "This peer coaching event is cancelled"
    elif moved:
        subject, opening = f"Moved: {title}", "This peer coaching event has changed"
    else:
        subject, opening = f"Invitation: {title}", "You are invited to a peer coaching event"
    text = f"{opening}:\n\n{title}\n{_when(details)}\n"
    if details.location:
        text += f"{details.location}\n"
    text += f"\n{link}\n"
    to = [p.email for p in people if p.is_active and (only is None or p.id in only)]
    return outbox.messages_to(
        settings, f"event_{method.lower()}", to, subject, text, calendar_spec=spec
    )

"""Events as iCalendar (RFC 5545), written by the `icalendar` package: one VTIMEZONE per zone
used, stable UIDs, SEQUENCE and LAST-MODIFIED that move with every change, cancelled events
marked so. Titles, times, places and people only: nothing a record or a plan says.

Each event's VEVENT and each zone's VTIMEZONE are written once per worker and remembered by
what they are written from (the event's every field, its link and organizer; the zone and the
years): `icalendar` writes about 40 µs a line, and a calendar app asks for the same feed every
hour. The same inputs always give the same bytes, so nothing remembered can go stale."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from pydantic import BaseModel, ConfigDict

from app.events.models import EventKind, EventStatus

PRODID = "-//peercoach//peer coaching calendar//EN"
REFRESH = timedelta(hours=1)
_END = b"END:VCALENDAR\r\n"
_LABELS = {
    EventKind.pre_conference: "Pre-conference",
    EventKind.observation: "Observation",
    EventKind.post_conference: "Post-conference",
    EventKind.year_end_meeting: "Year-end meeting",
    EventKind.other: "Peer coaching",
}


class Attendee(BaseModel):
    model_config = ConfigDict(frozen=True)

    given_name: str
    family_name: str
    email: str


class CalendarEvent(BaseModel):
    """What a calendar shows of an event (read by calendar_feeds/service.py). Frozen: its
    VEVENT is remembered by its value."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    kind: EventKind
    title: str | None
    team_id: uuid.UUID
    team_name: str
    starts_at: datetime
    ends_at: datetime
    location: str | None
    status: EventStatus
    version: int
    updated_at: datetime
    time_zone: str | None
    attendees: tuple[Attendee, ...]


def summary(event: CalendarEvent) -> str:
    return event.title or f"{_LABELS[event.kind]} · {event.team_name}"


def _vevent(event: CalendarEvent, link: str, organizer: str | None) -> icalendar.Event:
    zone = ZoneInfo(event.time_zone or "UTC")
    item = icalendar.Event()
    item.add("uid", f"{event.id}@peercoach")
    item.add("dtstamp", event.updated_at)
    item.add("last-modified", event.updated_at)
    item.add("sequence", event.version - 1)
    item.add("dtstart", event.starts_at.astimezone(zone))
    item.add("dtend", event.ends_at.astimezone(zone))
    item.add("summary", summary(event))
    item.add("status", "CANCELLED" if event.status == EventStatus.cancelled else "CONFIRMED")
    if event.location:
        item.add("location", event.location)
    item.add("url", link)
    item.add(
        "description",
        f"{_LABELS[event.kind]} of the peer coaching team {event.team_name}.\n{link}",
    )
    if organizer:  # an invitation (RFC 5546) names who sends it
        sender = icalendar.vCalAddress(f"mailto:{organizer}")
        sender.params["CN"] = "Peer coaching"
        item.add("organizer", sender, encode=False)
    for person in event.attendees:
        address = icalendar.vCalAddress(f"mailto:{person.email}")
        address.params["CN"] = f"{person.given_name} {person.family_name}"
        address.params["ROLE"] = "REQ-PARTICIPANT"
        if organizer:
            address.params["PARTSTAT"] = "NEEDS-ACTION"
            address.params["RSVP"] = "FALSE"  # nobody reads the replies
        item.add("attendee", address, encode=False)
    return item


@dataclass(frozen=True, slots=True)
class Listed:
    """An event with its VEVENT, as a calendar lists it."""

    event: CalendarEvent
    vevent: bytes


def listed(event: CalendarEvent, link: str, organizer: str | None = None) -> Listed:
    """The event and its VEVENT; `link` is the event's page in the front end."""
    return Listed(event, _vevent_ical(event, link, organizer))


def calendar(
    name: str,
    events: list[CalendarEvent],
    link_of: Any,
    method: str | None = None,
    organizer: str | None = None,
) -> bytes:
    """A whole calendar of these events; `link_of(event)` is the event's page in the front
    end."""
    return calendar_of(name, [listed(e, link_of(e), organizer) for e in events], method)


def instant(moment: datetime) -> datetime:
    """The same time in UTC under the standard library's one `UTC` object: a key to order times
    by. The read path's datetimes each carry a UTC `tzinfo` object of their own (parsed from ISO
    text), and comparing two aware datetimes whose `tzinfo` objects differ asks each for its
    offset, where two under the same one compare as plain values (sorting a school feed's 250
    events as read took 1.1 ms of its 3.2 ms)."""
    return moment.astimezone(UTC)


def calendar_of(name: str, items: Sequence[Listed], method: str | None = None) -> bytes:
    """A whole calendar: the events, and one VTIMEZONE for each zone they use (covering only
    the years they span)."""
    parts = [_head(name, method)]
    if items:
        # The years in UTC, as stored (whole years: comparing the numbers is enough).
        first = min(i.event.starts_at.year for i in items)
        last = max(i.event.ends_at.year for i in items)
        zones = sorted({i.event.time_zone or "UTC" for i in items})
        span = (date(first, 1, 1), date(last + 1, 1, 1))
        parts += [_vtimezone(zone, *span) for zone in zones]
    parts += [i.vevent for i in items]
    parts.append(_END)
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class Document:
    """A calendar as served: its bytes, their strong ETag, and when its latest event changed
    (for `Last-Modified`; None without events)."""

    body: bytes
    etag: str
    last_modified: datetime | None


def document(name: str, items: Sequence[Listed], method: str | None = None) -> Document:
    """`calendar_of` these events, with its ETag and date."""
    body = calendar_of(name, items, method)
    changed = max((i.event.updated_at for i in items), key=instant, default=None)
    return Document(body, f'"ics-{hashlib.sha256(body).hexdigest()[:32]}"', changed)


@lru_cache(maxsize=4096)
def _head(name: str, method: str | None) -> bytes:
    """The calendar's own properties: BEGIN:VCALENDAR and what follows, up to its parts."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", REFRESH)
    shell = bytes(cal.to_ical())
    assert shell.endswith(_END)
    return shell[: -len(_END)]


@lru_cache(maxsize=20_000)
def _vevent_ical(event: CalendarEvent, link: str, organizer: str | None) -> bytes:
    return bytes(_vevent(event, link, organizer).to_ical())


@lru_cache(maxsize=256)
def _vtimezone(zone: str, first: date, last: date) -> bytes:
    """The zone's VTIMEZONE for those years, as `icalendar` decides it (nothing for UTC)."""
    probe = icalendar.Calendar()
    item = icalendar.Event()
    item.add("dtstart", datetime(first.year, 6, 1, 12, tzinfo=ZoneInfo(zone)))
    probe.add_component(item)
    probe.add_missing_timezones(first_date=first, last_date=last)
    return b"".join(bytes(tz.to_ical()) for tz in probe.timezones)

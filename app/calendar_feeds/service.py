"""Feeds: made, rotated and revoked by their owner; read by calendar apps with the secret in the
address (stored only as a SHA-256), as the owner would see the calendar now (policies.py)."""

from __future__ import annotations

import functools
import hashlib
import itertools
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Uuid, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.auth.principal import Principal, caller_values
from app.auth.principal_cache import PrincipalCache
from app.calendar_feeds import ics, policies
from app.calendar_feeds.models import CalendarFeed, FeedKind
from app.calendar_feeds.schemas import CalendarFeedAddress, CalendarFeedCreate, CalendarFeedPublic
from app.core.config import Settings
from app.core.db import table_of, utcnow
from app.core.drivers import Driver
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.pagination import PageQuery
from app.core.reads import Bound, Reads
from app.core.schemas import OutputModel
from app.core.sql import AnySelect, nested
from app.events.models import Event, EventParticipant
from app.events.policies import events_within
from app.events.schemas import MAX_EVENT_LENGTH
from app.teams.models import Team, TeamMember
from app.teams.policies import TeamReach, team_reach, teams_within
from app.teams.service import time_zone_of
from app.users.models import User

FEED_PATH = "/api/v1/calendar-feeds"
# What a feed holds: events ending from this long ago on, at most this many (soonest first).
FEED_PAST = timedelta(days=120)
MAX_FEED_EVENTS = 2000
# A feed with an event of more teams than this (a district administrator's schools feed: every
# team's year-end meeting) is read whole each time: kept per team, each request would list and
# check every team's counter, and the feed is cut at MAX_FEED_EVENTS anyway.
KEPT_FEED_TEAMS = 200


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _address(settings: Settings, token: str) -> str:
    base = (settings.public_url or "").rstrip("/")
    return f"{base}{FEED_PATH}/{token}.ics"


def _with_address(feed: CalendarFeed, settings: Settings, token: str) -> CalendarFeedAddress:
    public = CalendarFeedPublic.model_validate(feed)
    return CalendarFeedAddress(**public.model_dump(), url=_address(settings, token))


async def create(
    session: AsyncSession, principal: Principal, data: CalendarFeedCreate, settings: Settings
) -> CalendarFeedAddress:
    if not policies.may_create(principal, data.kind):
        raise Forbidden("Administrators keep their schools' feed")
    if data.team_id is not None:
        member = await session.execute(
            select(col(TeamMember.user_id))
            .join(Team, col(Team.id) == TeamMember.team_id)
            .where(
                col(TeamMember.team_id) == data.team_id,
                col(TeamMember.user_id) == principal.staff.id,
                col(Team.deleted_at).is_(None),
            )
        )
        if member.first() is None:
            raise NotFound("No such team of yours: a team feed is for its members")
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(
        owner_id=principal.staff.id, kind=data.kind, team_id=data.team_id, token_hash=_hash(token)
    )
    session.add(feed)
    await session.flush()
    return _with_address(feed, settings, token)


async def rotate(
    session: AsyncSession, feed: CalendarFeed, settings: Settings
) -> CalendarFeedAddress:
    """A new secret address; the old one answers 404 from now on."""
    if feed.revoked_at is not None:
        raise Conflict("The feed is revoked; make a new one")
    token = secrets.token_urlsafe(32)
    feed.token_hash = _hash(token)
    feed.rotated_at = utcnow()
    session.add(feed)
    await session.flush()
    return _with_address(feed, settings, token)


async def revoke(session: AsyncSession, feed: CalendarFeed) -> None:
    if feed.revoked_at is None:
        feed.token_hash = None
        feed.revoked_at = utcnow()
        session.add(feed)
        await session.flush()


_PUBLIC = [c for c in table_of(CalendarFeed).columns if c.key in CalendarFeedPublic.model_fields]


@functools.cache
def list_query() -> PageQuery:
    stmt = select(*_PUBLIC).where(
        policies.own_feeds(Principal()), col(CalendarFeed.revoked_at).is_(None)
    )
    return PageQuery(stmt, (col(CalendarFeed.created_at).desc(), col(CalendarFeed.id)))


# ---- reading a feed ---------------------------------------------------------------------------

_FEED_BY_TOKEN = select(
    col(CalendarFeed.id),
    col(CalendarFeed.kind),
    col(CalendarFeed.team_id),
    col(CalendarFeed.owner_id),
).where(col(CalendarFeed.token_hash) == bindparam("token_hash"))


class _Feed(OutputModel):
    id: uuid.UUID
    kind: FeedKind
    team_id: uuid.UUID | None
    owner_id: uuid.UUID


def _attendees() -> Any:
    people = (
        select(col(User.given_name), col(User.family_name), col(User.email))
        .join(EventParticipant, col(EventParticipant.user_id) == User.id)
        .where(col(EventParticipant.event_id) == Event.id)
        .order_by(User.family_name, User.given_name, col(User.id))
    )
    return nested(people)


def _team_name() -> Any:
    named = aliased(Team)  # not the Team a visibility rule correlates with
    return select(col(named.name)).where(col(named.id) == Event.team_id).scalar_subquery()


def _calendar_columns() -> list[Any]:
    return [
        col(Event.id),
        col(Event.kind),
        col(Event.title),
        col(Event.team_id),
        _team_name().label("team_name"),
        col(Event.starts_at),
        col(Event.ends_at),
        col(Event.location),
        col(Event.status),
        col(Event.version),
        col(Event.updated_at),
        time_zone_of(Event.team_id).scalar_subquery().label("time_zone"),
        _attendees().label("attendees"),
    ]


def _in_window(kind: FeedKind, reach: TeamReach) -> ColumnElement[bool]:
    """The events a feed shows now: its kind's, seen as its owner sees them, ending after
    `since`."""
    return and_(
        policies.feed_events(kind, reach),
        col(Event.ends_at) > bindparam("since"),
        # The same, as a range of the (team, start) index: an event lasts at most
        # MAX_EVENT_LENGTH, so one ending after `since` starts after `since` less that.
        # Without it a team's every past event was read (30,000 for the bench's writers).
        col(Event.starts_at) > bindparam("starts_after"),
    )


@functools.cache
def _reach_teams(kind: FeedKind, reach: TeamReach) -> AnySelect:
    """Every team whose events a feed may show its owner, with or without an event in it now
    (a team feed: its team, if still seen), up to `teams_up_to` of them: what a kept feed and
    its teams' kept events are filed under. Every event the feed selects is of one of these
    (`policies.feed_events` narrows `events_within(reach)`, which is these teams' events)."""
    teams = select(col(Team.id)).where(teams_within(reach, False))
    if kind == FeedKind.team:
        teams = teams.where(col(Team.id) == bindparam("feed_team_id"))
    return teams.limit(bindparam("teams_up_to"))


@functools.cache
def _feed_events(kind: FeedKind, reach: TeamReach, of_teams: bool) -> AnySelect:
    """The feed's events, soonest first; `of_teams`: of some of its teams (`teams`) only."""
    stmt = select(*_calendar_columns()).where(_in_window(kind, reach))
    if of_teams:
        stmt = stmt.where(col(Event.team_id).in_(bindparam("teams", expanding=True, type_=Uuid())))
    return stmt.order_by(col(Event.starts_at), col(Event.id)).limit(MAX_FEED_EVENTS)


@functools.cache
def _one_event(reach: TeamReach) -> AnySelect:
    return select(*_calendar_columns()).where(
        col(Event.id) == bindparam("event_id"), events_within(reach, False, one=True)
    )


async def one_event(reads: Reads, principal: Principal, event_id: uuid.UUID) -> ics.CalendarEvent:
    """One event as a calendar shows it, if the caller may see it (404 otherwise)."""
    found = await reads.one(
        ics.CalendarEvent,
        Bound(
            _one_event(team_reach(principal)), {**caller_values(principal), "event_id": event_id}
        ),
    )
    if found is None:
        raise NotFound("No such event")
    return found


@dataclass(frozen=True)
class OpenFeed:
    """A feed behind its secret address, and its owner as the caller it reads as."""

    feed: _Feed
    owner: Principal


async def open_feed(reads: Driver, principals: PrincipalCache, token: str) -> OpenFeed:
    """The feed behind a secret address (a statement of its own, as a bearer token's check
    is); 404 for an unknown, rotated or revoked address, or one whose owner is no longer
    active."""
    gone = NotFound("No such calendar feed (it may have been rotated or revoked)")
    if len(token) > 100:
        raise gone
    rows = await reads.rows(_FEED_BY_TOKEN, {"token_hash": _hash(token)}, fixed=True)
    if not rows:
        raise gone
    feed = _Feed.model_validate(rows[0])
    owner = await principals.active_staff(reads, feed.owner_id)
    if owner is None:
        raise gone
    return OpenFeed(feed, owner)


@dataclass(frozen=True, slots=True)
class _TeamEvents:
    """A team's events in a feed, as kept (core/kept.py) until `until` (`_holds_until`)."""

    items: tuple[ics.Listed, ...]
    until: datetime | None


@dataclass(frozen=True, slots=True)
class _KeptCalendar:
    """A feed as served, kept until `until` (`_holds_until`)."""

    calendar: ics.Document
    until: datetime | None


def _holds_until(items: Sequence[ics.Listed], cut: bool, now: datetime) -> datetime | None:
    """Until when these events of a feed stay as they are with no row changing: until the first
    of them leaves the window (None: there is none, and none can enter by time passing); `now`
    if the feed's limit cut them short (later ones may be missing: not kept)."""
    if cut:
        return now
    first_to_end = min((i.event.ends_at for i in items), default=None)
    return None if first_to_end is None else first_to_end + FEED_PAST


def _soonest(item: ics.Listed) -> tuple[datetime, uuid.UUID]:
    return ics.instant(item.event.starts_at), item.event.id  # `instant`: a faster sort


async def feed_calendar(
    reads: Reads, feed: OpenFeed, now: datetime, link_of: Callable[[uuid.UUID], str]
) -> ics.Document:
    """The feed as iCalendar: its events as its owner sees them now, soonest first, with their
    VEVENTs (`link_of(event id)`: the event's page in the front end).

    A calendar app asks for the same feed every hour, and a school's is 250 events of 50 teams
    (184 KB). One snapshot: the teams the feed may show with their counters (one statement),
    then the feed as this worker kept it whole for the owner (the same teams, none changed
    since, no event left the window); else each team's events as kept (their own counters),
    the others read in one statement and merged in the feed's order. A feed that may show more
    than KEPT_FEED_TEAMS teams (a district administrator's spans every team) is read whole in
    one statement each time."""
    reach = team_reach(feed.owner)
    since = now - FEED_PAST
    values = {**caller_values(feed.owner), "since": since, "starts_after": since - MAX_EVENT_LENGTH}
    if feed.feed.kind == FeedKind.team:
        values["feed_team_id"] = feed.feed.team_id

    async def events_of(missing: list[uuid.UUID]) -> dict[uuid.UUID, _TeamEvents]:
        if not missing:
            return {}  # the owner sees no team
        stmt = _feed_events(feed.feed.kind, reach, True)
        events = await reads.all(ics.CalendarEvent, Bound(stmt, {**values, "teams": missing}))
        by_team: dict[uuid.UUID, list[ics.Listed]] = {t: [] for t in missing}
        for event in events:
            by_team[event.team_id].append(ics.listed(event, link_of(event.id)))
        cut = len(events) >= MAX_FEED_EVENTS  # a team's later events may be missing
        return {
            team: _TeamEvents(tuple(listed), _holds_until(listed, cut, now))
            for team, listed in by_team.items()
        }

    async def build(teams: list[uuid.UUID] | None) -> _KeptCalendar:
        if teams is None:
            whole = _feed_events(feed.feed.kind, reach, False)
            events = await reads.all(ics.CalendarEvent, Bound(whole, values))
            items = [ics.listed(e, link_of(e.id)) for e in events]
        else:
            kept = await reads.kept_each(
                feed.owner,
                ("calendar feed", feed.feed.kind),
                teams,
                events_of,
                until=lambda team_events, _: team_events.until,
            )
            # Each team's are in order already: sorting such runs is a merge.
            runs = itertools.chain.from_iterable(t.items for t in kept.values())
            items = sorted(runs, key=_soonest)[:MAX_FEED_EVENTS]
        until = _holds_until(items, len(items) >= MAX_FEED_EVENTS, now)
        return _KeptCalendar(ics.document(feed_name(feed.feed, items), items), until)

    if reach is TeamReach.district:
        return (await build(None)).calendar
    kept = await reads.kept_whole(
        feed.owner,
        ("calendar", feed.feed.kind, feed.feed.team_id),
        Bound(_reach_teams(feed.feed.kind, reach), {**values, "teams_up_to": KEPT_FEED_TEAMS + 1}),
        build,
        until=lambda calendar, _: calendar.until,
        at_most=KEPT_FEED_TEAMS,
    )
    return kept.calendar


def feed_name(feed: _Feed, items: list[ics.Listed]) -> str:
    if feed.kind == FeedKind.team and items:
        return f"Peer coaching: {items[0].event.team_name}"
    return {
        FeedKind.personal: "Peer coaching: my events",
        FeedKind.team: "Peer coaching: my team",
        FeedKind.schools: "Peer coaching: my schools",
    }[feed.kind]

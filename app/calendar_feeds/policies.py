"""Calendar feeds: each person manages their own (anyone else's is 404); a team feed is for the
team's members, a schools feed for administrators. A feed shows what its owner may see of the
calendar at the moment it is read (events.policies, with the owner as the caller), narrowed to
the feed's kind, and never a note: titles, times, places and people only (calendar_feeds/ics.py)."""

from __future__ import annotations

import functools

from sqlalchemy import ColumnElement, and_, bindparam, exists, or_, select
from sqlmodel import col

from app.auth.principal import CALLER_ID, Principal
from app.calendar_feeds.models import CalendarFeed, FeedKind
from app.coverage.models import CoverageRequest
from app.events import policies as event_policies
from app.events.models import Event, EventKind, EventParticipant
from app.teams.policies import TeamReach


def own_feeds(_p: Principal) -> ColumnElement[bool]:
    """The feeds a caller manages: their own (names the caller by CALLER_ID)."""
    return col(CalendarFeed.owner_id) == bindparam(CALLER_ID)


def may_create(p: Principal, kind: FeedKind) -> bool:
    """Anyone on the staff keeps a personal feed and feeds of their teams (membership is
    checked against the team); administrators keep their schools' feed."""
    return kind != FeedKind.schools or p.is_admin


@functools.cache
def feed_events(kind: FeedKind, reach: TeamReach) -> ColumnElement[bool]:
    """The events of a feed of `kind` whose owner sees teams as `reach` does (built once each;
    the owner's values are CALLER_ID and CALLER_SCHOOLS, the team's `feed_team_id`)."""
    visible = event_policies.events_within(reach, False)
    if kind == FeedKind.personal:
        mine = select(col(EventParticipant.event_id)).where(
            col(EventParticipant.user_id) == bindparam(CALLER_ID)
        )
        return and_(visible, col(Event.id).in_(mine))
    if kind == FeedKind.team:
        return and_(visible, col(Event.team_id) == bindparam("feed_team_id"))
    covered = exists().where(col(CoverageRequest.event_id) == Event.id)
    return and_(
        visible,
        or_(
            col(Event.kind) == EventKind.year_end_meeting,
            and_(col(Event.kind) == EventKind.observation, covered),
        ),
    )

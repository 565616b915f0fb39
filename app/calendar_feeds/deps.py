"""The caller's own feeds, or 404 before the handler runs (anyone else's feed is not there);
and the feed behind a secret address, with its owner as the caller it reads as."""

import uuid
from typing import Annotated

from fastapi import Depends, Request

from app.auth.deps import StaffCaller
from app.auth.principal import caller_values
from app.calendar_feeds import policies
from app.calendar_feeds.models import CalendarFeed
from app.calendar_feeds.service import OpenFeed, open_feed
from app.core.access import load_visible
from app.core.deps import SessionDep


async def get_own_feed(
    feed_id: uuid.UUID, session: SessionDep, caller: StaffCaller
) -> CalendarFeed:
    return await load_visible(
        session,
        CalendarFeed,
        feed_id,
        policies.own_feeds(caller),
        missing="No such calendar feed of yours",
        lock=True,
        params=caller_values(caller),
    )


OwnFeed = Annotated[CalendarFeed, Depends(get_own_feed)]


async def get_open_feed(token: str, request: Request) -> OpenFeed:
    """The address's secret stands for its owner, as a bearer token does (404 when rotated,
    revoked, or the owner's account is no longer active)."""
    state = request.app.state
    return await open_feed(state.db.driver, state.principals, token)


FeedByAddress = Annotated[OpenFeed, Depends(get_open_feed)]

"""The caller's own feeds, or 404 before the handler runs (anyone else's feed is not there)."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import StaffCaller
from app.auth.principal import caller_values
from app.calendar_feeds import policies
from app.calendar_feeds.models import CalendarFeed
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

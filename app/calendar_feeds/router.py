import uuid
from collections.abc import Callable
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Request, Response

import app.core.paths  # noqa: F401  (the `:id` convertor, before any route is made)
from app.auth.deps import StaffCaller
from app.auth.principal import caller_values
from app.calendar_feeds import ics, service
from app.calendar_feeds.deps import FeedByAddress, OwnFeed
from app.calendar_feeds.schemas import CalendarFeedAddress, CalendarFeedCreate, CalendarFeedPublic
from app.core.db import utcnow
from app.core.deps import ReadsDep, SessionDep, SettingsDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep

router = APIRouter(tags=["calendar feeds"])

_ICS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/calendar": {"schema": {"type": "string"}}}, "description": "iCalendar"},
    304: {"description": "Not modified since the ETag or date sent"},
}


def calendar_response(request: Request, calendar: ics.Document, filename: str) -> Response:
    """An iCalendar answer with its strong ETag (304 when `If-None-Match` names it) and, for
    information, `Last-Modified`: when its latest event changed. Conditional requests go by the
    ETag only: an event leaving a feed changes its bytes but not that date."""
    headers = {
        "ETag": calendar.etag,
        "Cache-Control": "private, max-age=300",
        "Content-Disposition": f'inline; filename="{filename}"',
    }
    if calendar.last_modified is not None:
        headers["Last-Modified"] = format_datetime(calendar.last_modified, usegmt=True)
    sent = request.headers.get("if-none-match", "")
    if calendar.etag in [t.strip().removeprefix("W/") for t in sent.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(calendar.body, media_type="text/calendar; charset=utf-8", headers=headers)


@router.post("/calendar-feeds", status_code=201, responses=error_responses(401, 403, 404, 422))
async def create_calendar_feed(
    body: CalendarFeedCreate, session: SessionDep, caller: StaffCaller, settings: SettingsDep
) -> CalendarFeedAddress:
    """A secret address that Google Calendar, Outlook or Apple Calendar subscribe to (no
    sign-in: the address is the key, so keep it private). `personal`: the events you take part
    in; `team` (with `team_id`, members): the team's events; `schools` (administrators): your
    schools' year-end meetings and the observations that need coverage. The address is shown
    only here; rotate the feed for a new one."""
    return await service.create(session, caller, body, settings)


@router.get("/calendar-feeds", responses=error_responses(401, 403, 422))
async def list_calendar_feeds(
    caller: StaffCaller, reads: ReadsDep, page: PageDep
) -> Page[CalendarFeedPublic]:
    """Your feeds that work (their addresses are not shown again)."""
    return await reads.page(CalendarFeedPublic, service.list_query(), page, caller_values(caller))


@router.post("/calendar-feeds/{feed_id}/rotate", responses=error_responses(401, 403, 404, 409, 422))
async def rotate_calendar_feed(
    feed: OwnFeed, session: SessionDep, settings: SettingsDep
) -> CalendarFeedAddress:
    """A new secret address for the feed; the old one answers 404 from now on (re-subscribe
    with the new one)."""
    return await service.rotate(session, feed, settings)


@router.delete(
    "/calendar-feeds/{feed_id:id}", status_code=204, responses=error_responses(401, 403, 404, 422)
)
async def revoke_calendar_feed(feed: OwnFeed, session: SessionDep) -> Response:
    """Stop the feed: its address answers 404 from now on."""
    await service.revoke(session, feed)
    return Response(status_code=204)


@router.get(
    "/calendar-feeds/{token}.ics",
    response_class=Response,
    responses={**error_responses(404, 422), **_ICS},
)
async def read_calendar_feed(feed: FeedByAddress, request: Request, reads: ReadsDep) -> Response:
    """The feed as iCalendar, for calendar apps (no header needed: the address is the key).
    Titles, times, places and people only, never a note. 404 once rotated or revoked."""
    calendar = await service.feed_calendar(reads, feed, utcnow(), _link_of(request))
    return calendar_response(request, calendar, "peercoach.ics")


def _link_of(request: Request) -> Callable[[uuid.UUID], str]:
    """An event's page in the front end, by its id."""
    base = request.app.state.settings.frontend_url.rstrip("/")
    return lambda event_id: f"{base}/events/{event_id}"


@router.get(
    "/events/{event_id}.ics",
    response_class=Response,
    responses={**error_responses(401, 403, 404, 422), **_ICS},
)
async def read_event_ics(
    event_id: uuid.UUID, request: Request, caller: StaffCaller, reads: ReadsDep
) -> Response:
    """One event as iCalendar ("add to my calendar"), for those who see it."""
    event = await service.one_event(reads, caller, event_id)
    link = _link_of(request)(event.id)
    calendar = ics.document("Peer coaching", [ics.listed(event, link)])
    return calendar_response(request, calendar, f"event-{event_id}.ics")

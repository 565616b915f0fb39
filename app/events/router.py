import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

import app.core.paths  # noqa: F401  (the `:id` convertor, before any route is made)
from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep, SessionDep, SettingsDep, WritesDep
from app.core.errors import error_responses
from app.core.etag import IfMatch, etag, require_current
from app.core.pagination import Page, PageDep
from app.core.schemas import Timestamp
from app.events import service
from app.events.deps import ChangeableEvent, EventView, ViewableEvent
from app.events.models import EventKind
from app.events.schemas import EventCancel, EventCreate, EventPublic, EventUpdate

router = APIRouter(prefix="/events", tags=["events"])


def _answer(event: EventPublic, response: Response) -> EventPublic:
    """The event as the service wrote it, with its `ETag`."""
    response.headers["ETag"] = etag("event", event.version)
    return event


@router.get("", responses=error_responses(401, 403, 422))
async def list_events(
    reads: ReadsDep,
    principal: StaffCaller,
    page: PageDep,
    team_id: uuid.UUID | None = None,
    teacher_id: Annotated[uuid.UUID | None, Query(description="Events this person attends")] = None,
    kind: EventKind | None = None,
    starts_from: Annotated[
        Timestamp | None, Query(alias="from", description="Events ending after this instant")
    ] = None,
    starts_before: Annotated[
        Timestamp | None, Query(alias="to", description="Events starting before this instant")
    ] = None,
    include_cancelled: bool = False,
) -> Page[EventPublic]:
    """The calendar: events of the teams the caller may see, in time order. For a month view,
    pass `from` and `to` (with their UTC offsets, URL-encoded)."""
    query, values = service.list_query(
        principal,
        team_id=team_id,
        teacher_id=teacher_id,
        kind=kind,
        starts_from=starts_from,
        starts_before=starts_before,
        include_cancelled=include_cancelled,
    )
    return await reads.page(EventPublic, query, page, values)


@router.post("", status_code=201, responses=error_responses(401, 403, 404, 409, 422))
async def create_event(
    body: EventCreate,
    writes: WritesDep,
    principal: StaffCaller,
    settings: SettingsDep,
    response: Response,
) -> EventPublic:
    """Schedule a pre-conference, observation (name the observer and the observed teacher),
    post-conference, year-end meeting or other event. Participants must be on the team (a
    year-end meeting may add an administrator). A participant already booked at that time
    answers 409: naming the other event when it is this team's, otherwise only saying the
    participant is busy then (another team's calendar is not yours to see). Each participant
    is emailed an iCalendar invitation."""
    event = await service.create(writes, principal, body, notify=settings)
    return _answer(event, response)


@router.get("/{event_id:id}", responses=error_responses(401, 403, 404, 422))
async def get_event(event: EventView, response: Response) -> EventPublic:
    """One event, with an `ETag` for edits."""
    response.headers["ETag"] = etag("event", event.version)
    return event


@router.patch("/{event_id:id}", responses=error_responses(401, 403, 404, 409, 412, 422, 428))
async def update_event(
    ev: ChangeableEvent,
    body: EventUpdate,
    session: SessionDep,
    principal: StaffCaller,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
) -> EventPublic:
    """Reschedule (`starts_at` and `ends_at` together), move, retitle or change participants.
    The double-booking check runs again. When its time, place, title or people change, the
    participants are emailed the new version (people taken off it, a cancellation)."""
    require_current(if_match, "event", ev.event.version)
    event = await service.update(session, principal, ev.team, ev.event, body, notify=settings)
    return _answer(event, response)


@router.post("/{event_id}/cancel", responses=error_responses(401, 403, 404, 409, 412, 422, 428))
async def cancel_event(
    ev: ChangeableEvent,
    body: EventCancel,
    session: SessionDep,
    principal: StaffCaller,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
) -> EventPublic:
    """Cancel an event. It stays on the calendar, marked cancelled (list it with
    `include_cancelled=true`), and frees its participants' time; they are emailed the
    cancellation (the reason stays here)."""
    require_current(if_match, "event", ev.event.version)
    event = await service.cancel(
        session, principal, ev.team, ev.event, body.reason, notify=settings
    )
    return _answer(event, response)


@router.post("/{event_id}/held", responses=error_responses(401, 403, 404, 409, 412, 422, 428))
async def confirm_event_held(
    ev: ViewableEvent,
    session: SessionDep,
    principal: StaffCaller,
    response: Response,
    if_match: IfMatch = None,
) -> EventPublic:
    """Confirm the event took place, once it has started: a team member who took part, or for
    a year-end meeting an administrator of a member's school. Only held events (or those with
    a record) count in progress; the end time passing is not enough."""
    event = await service.confirm_held(session, principal, ev.team, ev.event, if_match)
    return _answer(event, response)


@router.delete(
    "/{event_id:id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422, 428)
)
async def delete_event(
    ev: ChangeableEvent,
    session: SessionDep,
    principal: StaffCaller,
    settings: SettingsDep,
    if_match: IfMatch = None,
) -> Response:
    """Delete an event entered by mistake (send its `ETag` as `If-Match`): hidden, not erased;
    an administrator can restore it."""
    require_current(if_match, "event", ev.event.version)
    await service.soft_delete(session, principal, ev.team, ev.event, notify=settings)
    return Response(status_code=204)


@router.post("/{event_id}/restore", responses=error_responses(401, 403, 404, 409, 422))
async def restore_event(
    ev: ViewableEvent, session: SessionDep, principal: StaffCaller, response: Response
) -> EventPublic:
    """Bring back a deleted event (administrators of a member's school)."""
    event = await service.restore(session, principal, ev.team, ev.event)
    return _answer(event, response)

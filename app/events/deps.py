import functools
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.auth.deps import StaffCaller
from app.auth.principal import caller_values
from app.core.access import read_visible
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import Forbidden, NotFound
from app.events import policies, service
from app.events.models import Event, EventKind
from app.events.schemas import EventPublic
from app.teams import service as team_service
from app.teams.models import Team
from app.teams.policies import TeamAccess

MISSING = "No such event"


@dataclass
class EventAccess:
    event: Event
    team: TeamAccess


async def get_viewable_event(
    event_id: uuid.UUID, session: SessionDep, principal: StaffCaller
) -> EventAccess:
    """404 unless the caller may see the event's team (deleted events: its administrators).
    One statement decides, so unknown and hidden ids cost the same; it reads the event's team
    too (an event is visible exactly when its team is) and the team's members."""
    stmt = _event_with_team(policies.visible_events(principal, include_deleted=True, one=True))
    values = {**caller_values(principal), "event_id": event_id}
    found = (await session.execute(stmt, values)).all()
    if not found:
        raise NotFound(MISSING)
    event, team = found[0][:2]
    access = team_service.access_from(team, found)
    return EventAccess(event=event, team=access)


# The event's team, under its own name: the visibility check's subqueries name `team` and
# must not correlate to the joined row.
_OWNER = aliased(Team, name="owner")


@functools.cache
def _event_with_team(visible: Any) -> Any:
    """The event `event_id` with its team and members, if `visible` (a rule of
    events.policies, itself built once per kind of caller): built once per rule, so a write
    under an event neither builds nor keys it (0.3-0.4 ms a request)."""
    return team_service.joined_with_members(
        select(Event, _OWNER).join(_OWNER, col(_OWNER.id) == Event.team_id), _OWNER
    ).where(col(Event.id) == bindparam("event_id"), visible)


ViewableEvent = Annotated[EventAccess, Depends(get_viewable_event)]


async def get_event_view(event_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller) -> EventPublic:
    """The event as the API shows it: visible as in `get_viewable_event`."""
    return await read_visible(
        reads, EventPublic, service.one_statement(caller, event_id), missing=MISSING
    )


EventView = Annotated[EventPublic, Depends(get_event_view)]


async def get_changeable_event(ev: ViewableEvent, principal: StaffCaller) -> EventAccess:
    """403 for those who see the event but may not change it (before anything else is
    checked)."""
    if not policies.can_schedule(principal, ev.team, EventKind(ev.event.kind)):
        raise Forbidden(policies.not_scheduler("change"))
    return ev


ChangeableEvent = Annotated[EventAccess, Depends(get_changeable_event)]

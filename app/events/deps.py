import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from app.auth.deps import CurrentPrincipal, CurrentUser
from app.core.deps import SessionDep
from app.core.errors import NotFound
from app.events.models import Event
from app.teams import policies
from app.teams import service as team_service
from app.teams.policies import TeamAccess


@dataclass
class EventAccess:
    event: Event
    team: TeamAccess


async def get_viewable_event(
    event_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, _user: CurrentUser
) -> EventAccess:
    """404 unless the caller may see the event's team (deleted events: administrators only)."""
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound("No such event")
    access = await team_service.get_viewable(session, principal, event.team_id)
    if access is None:
        raise NotFound("No such event")
    if event.deleted_at is not None and not policies.is_team_admin(principal, access):
        raise NotFound("No such event")
    return EventAccess(event=event, team=access)


ViewableEvent = Annotated[EventAccess, Depends(get_viewable_event)]

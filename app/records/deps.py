from typing import Annotated

from fastapi import Depends

from app.auth.deps import StaffCaller
from app.core.errors import Forbidden
from app.events.deps import EventAccess, ViewableEvent
from app.teams import policies


async def get_member_event(ev: ViewableEvent, principal: StaffCaller) -> EventAccess:
    """Confidential records: the team's members only. Administrators, who may see the event,
    get 403; everyone else already got 404 for the event."""
    if not policies.can_read_confidential(principal, ev.team):
        raise Forbidden("Observation notes and conference records are confidential to the team")
    return ev


MemberEvent = Annotated[EventAccess, Depends(get_member_event)]

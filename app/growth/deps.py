"""The growth record a caller may read, or 404 before the handler runs."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep
from app.core.errors import NotFound
from app.events.deps import MISSING as EVENT_MISSING
from app.growth import service
from app.growth.schemas import GrowthRecordPublic


async def get_growth_view(
    event_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller
) -> GrowthRecordPublic:
    """The meeting's growth record: whoever sees the event reads it (one statement)."""
    found = await reads.one(service.GrowthOfEvent, service.of_event_statement(caller, event_id))
    if found is None:
        raise NotFound(EVENT_MISSING)
    if found.record is None:
        raise NotFound("No growth record for this meeting yet")
    return found.record


GrowthRecordView = Annotated[GrowthRecordPublic, Depends(get_growth_view)]
